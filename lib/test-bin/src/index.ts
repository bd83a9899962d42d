// A TypeScript CLI bundled into one JavaScript file, for tests that spawn it many times: `node
// bundle.mjs` starts in tens of milliseconds where `tsx cli.ts` compiles on every start (about a
// second on a loaded 2-core machine). The bundle behaves as the source does: `import.meta.dirname`
// is the source's folder, so paths the CLI resolves from it are unchanged.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { buildSync } from "esbuild";

/** Bundles `entry` (a .ts file) into a temporary .mjs and returns its path. */
export function bundleCli(entry: string): string {
  const outfile = join(mkdtempSync(join(tmpdir(), "vbapi-test-bin-")), "cli.mjs");
  buildSync({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    logLevel: "silent",
    define: {
      "import.meta.dirname": JSON.stringify(dirname(entry)),
      "import.meta.filename": JSON.stringify(entry),
    },
    // CommonJS dependencies bundled into ESM may call require().
    banner: {
      js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
    },
  });
  return outfile;
}

/**
 * A loopback port nothing listens on, for tests of a refused connection: a port below 1024,
 * which the system never hands out for port 0 (ephemeral ports start at 32768 on Linux), so no
 * server another test starts meanwhile can take it, as it can a port freed after listening on
 * port 0 (seen in CI: "HTTP 404" from another test's server instead of ECONNREFUSED). None is a
 * "bad port" fetch refuses outright (9, 19, 37, ...). Each candidate is checked to refuse a
 * connection now; binding it is not needed (nor allowed without root).
 */
export async function closedPort(): Promise<number> {
  const { connect } = await import("node:net");
  for (const port of [47, 63, 71, 83, 89, 93, 97]) {
    const refused = await new Promise<boolean>((resolve) => {
      const socket = connect(port, "127.0.0.1");
      // A firewall that drops the connection: not a refusal, try the next port.
      socket.setTimeout(500, () => {
        socket.destroy();
        resolve(false);
      });
      socket.once("connect", () => {
        socket.destroy();
        resolve(false);
      });
      socket.once("error", (error: NodeJS.ErrnoException) =>
        resolve(error.code === "ECONNREFUSED"),
      );
    });
    if (refused) return port;
  }
  throw new Error("no closed port below 1024 on 127.0.0.1");
}
