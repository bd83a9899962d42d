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
