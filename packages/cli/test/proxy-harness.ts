// A real forward proxy for tests: Debian's tinyproxy, on a free loopback port, in the
// foreground, with its own config and log in a temporary folder, stopped by its PID. No
// hand-written proxy anywhere: the CLI and the SDK go through undici's proxy support to it.
import { type ChildProcess, spawn } from "node:child_process";
import { accessSync, constants, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";

export const TINYPROXY_INSTALL_HINT =
  "tinyproxy was not found: install it with `apt-get install -y tinyproxy` (Debian/Ubuntu; .ci/run " +
  "does this when it is missing) or `brew install tinyproxy`, or set TINYPROXY_BIN to its path";

/** The tinyproxy binary: $TINYPROXY_BIN, else the first on PATH (or /usr/bin, /usr/sbin). */
export function findTinyproxy(): string | undefined {
  const dirs = [...(process.env.PATH ?? "").split(delimiter), "/usr/bin", "/usr/sbin"];
  const candidates = process.env.TINYPROXY_BIN
    ? [process.env.TINYPROXY_BIN]
    : dirs.filter(Boolean).map((dir) => join(dir, "tinyproxy"));
  for (const file of candidates) {
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // not here
    }
  }
  return undefined;
}

/**
 * Whether the proxy tests run: yes with tinyproxy installed, and always with
 * VBAPI_REQUIRE_PROXY=1 (CI: then a missing tinyproxy fails them, saying how to install it).
 * Otherwise one line on stderr says what is skipped and how to run it.
 */
export function proxyTestsRun(what: string): boolean {
  if (findTinyproxy() !== undefined || process.env.VBAPI_REQUIRE_PROXY === "1") return true;
  process.stderr.write(
    `SKIPPED ${what}: ${TINYPROXY_INSTALL_HINT} (VBAPI_REQUIRE_PROXY=1 makes this a failure)\n`,
  );
  return false;
}

export interface Tinyproxy {
  /** http://127.0.0.1:PORT (no credentials). */
  readonly url: string;
  readonly port: number;
  /** The log so far (Connect level: one `Request (file descriptor N): ...` line per request). */
  log(): string;
  /** The request lines the proxy logged (`CONNECT 127.0.0.1:4010 HTTP/1.1`, `GET http://...`). */
  requests(): string[];
  stop(): Promise<void>;
}

/** A loopback port free a moment ago. */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function listening(port: number, deadline: number, child: ChildProcess): Promise<void> {
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`tinyproxy exited (${child.exitCode})`);
    const up = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, "127.0.0.1");
      socket.once("connect", () => {
        socket.destroy();
        resolve(true);
      });
      socket.once("error", () => resolve(false));
    });
    if (up) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error("tinyproxy did not listen within 10 s");
}

/** Starts tinyproxy; with `basicAuth`, it answers 407 to requests without those credentials. */
export async function startTinyproxy(
  options: { basicAuth?: { user: string; password: string } } = {},
): Promise<Tinyproxy> {
  const bin = findTinyproxy();
  if (bin === undefined) throw new Error(TINYPROXY_INSTALL_HINT);
  const dir = mkdtempSync(join(tmpdir(), "vbapi-proxy-"));
  const port = await freePort();
  const logFile = join(dir, "tinyproxy.log");
  const auth = options.basicAuth;
  writeFileSync(
    join(dir, "tinyproxy.conf"),
    [
      `Port ${port}`,
      "Listen 127.0.0.1",
      "Timeout 30",
      `LogFile "${logFile}"`,
      "LogLevel Connect",
      "MaxClients 50",
      "Allow 127.0.0.1",
      ...(auth ? [`BasicAuth ${auth.user} ${auth.password}`] : []),
      "",
    ].join("\n"),
  );
  const child = spawn(bin, ["-d", "-c", join(dir, "tinyproxy.conf")], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr?.setEncoding("utf8").on("data", (d: string) => {
    stderr += d;
  });
  try {
    await listening(port, Date.now() + 10_000, child);
  } catch (error) {
    child.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`${(error as Error).message}: ${stderr.slice(0, 500)}`);
  }
  const log = () => {
    try {
      return readFileSync(logFile, "utf8");
    } catch {
      return "";
    }
  };
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    log,
    requests: () =>
      log()
        .split("\n")
        .map((line) => /Request \(file descriptor \d+\): (.*)$/.exec(line)?.[1])
        .filter((line): line is string => line !== undefined),
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once("exit", resolve));
        child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), 3000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
