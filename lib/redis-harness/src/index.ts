// A real, throwaway redis-server for tests and benchmarks: a free loopback port, a temporary
// directory, no persistence, stopped by its PID. No mock of Redis anywhere.

import { type ChildProcess, spawn } from "node:child_process";
import { accessSync, constants, mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";

export const REDIS_INSTALL_HINT =
  "redis-server was not found. The @vbapi-sdk/redis tests and the multi-process benchmark need a " +
  "real Redis: install it with `apt-get install -y redis-server` (Debian/Ubuntu; .ci/run does this " +
  "when it is missing) or `brew install redis`, or set REDIS_SERVER_BIN to the binary's path.";

/** The redis-server binary: $REDIS_SERVER_BIN, else the first `redis-server` on PATH. Throws the install hint when there is none. */
export function findRedisServer(): string {
  const candidates = process.env.REDIS_SERVER_BIN
    ? [process.env.REDIS_SERVER_BIN]
    : (process.env.PATH ?? "")
        .split(delimiter)
        .filter(Boolean)
        .map((dir) => join(dir, "redis-server"));
  for (const file of candidates) {
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // not here
    }
  }
  throw new Error(REDIS_INSTALL_HINT);
}

/**
 * Whether the tests that need a real redis-server should run: yes when one is installed, and
 * always when VBAPI_REQUIRE_REDIS=1 (CI sets it, so a missing server fails there with the
 * install hint). Otherwise says once, on stderr, which tests it leaves out and how to run them:
 * a newcomer without Redis gets a green `pnpm test` that says what it did not run.
 */
export function redisTestsRun(what: string): boolean {
  try {
    findRedisServer();
    return true;
  } catch {
    if (process.env.VBAPI_REQUIRE_REDIS === "1") return true;
    process.stderr.write(`SKIPPED ${what}: ${REDIS_INSTALL_HINT}\n`);
    return false;
  }
}

export interface RedisServer {
  /** redis://127.0.0.1:PORT */
  readonly url: string;
  readonly host: "127.0.0.1";
  readonly port: number;
  /** PID of the running redis-server (changes after restart()). */
  readonly pid: number;
  /** The temporary working directory (removed by stop()). */
  readonly dir: string;
  /** True while the server process is running. */
  readonly running: boolean;
  /** Stops the server (SIGTERM, SIGKILL after 3 s) by PID, keeping the directory for restart(). */
  halt(): Promise<void>;
  /** Starts the server again on the same port (after halt()); an empty dataset, as there is no persistence. */
  restart(): Promise<void>;
  /** Stops the server and removes its directory. Safe to call twice. */
  stop(): Promise<void>;
}

export interface StartRedisOptions {
  /** A fixed port (default: a free one). */
  port?: number;
  /** Milliseconds to wait for the server to answer PING (default 10 s). */
  readyTimeoutMs?: number;
}

const live = new Set<ChildProcess>();
let exitHookInstalled = false;
function killAllOnExit(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Never leave a redis-server behind when the test process ends without calling stop().
  process.on("exit", () => {
    for (const child of live) if (child.pid !== undefined) process.kill(child.pid, "SIGKILL");
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const address = srv.address();
      const port = typeof address === "object" && address ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** One PING over a raw socket: resolves true on +PONG. */
function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: "127.0.0.1", port });
    let answer = "";
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once("error", () => done(false));
    socket.once("connect", () => socket.write("PING\r\n"));
    socket.on("data", (chunk) => {
      answer += chunk.toString("latin1");
      if (answer.includes("\r\n")) done(answer.startsWith("+PONG"));
    });
  });
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once("exit", () => resolve()));
}

async function launch(
  bin: string,
  port: number,
  dir: string,
  readyTimeoutMs: number,
): Promise<ChildProcess> {
  const child = spawn(
    bin,
    [
      "--port",
      String(port),
      "--bind",
      "127.0.0.1",
      "--dir",
      dir,
      "--save",
      "",
      "--appendonly",
      "no",
      "--daemonize",
      "no",
      "--loglevel",
      "warning",
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  live.add(child);
  child.once("exit", () => live.delete(child));
  let output = "";
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-2000);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const spawnError = new Promise<Error>((resolve) => child.once("error", resolve));
  const deadline = Date.now() + readyTimeoutMs;
  while (Date.now() < deadline) {
    const failed = await Promise.race([
      spawnError,
      new Promise<undefined>((r) => setTimeout(r, 20)),
    ]);
    if (failed) throw new Error(`could not start ${bin}: ${failed.message}`);
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`redis-server exited before it was ready (port ${port}): ${output.trim()}`);
    }
    if (await ping(port)) {
      // Keep reading its output so a full pipe never blocks it; the exit hook owns the process.
      child.stdout?.resume();
      child.stderr?.resume();
      return child;
    }
  }
  child.kill("SIGKILL");
  throw new Error(`redis-server did not answer PING within ${readyTimeoutMs} ms: ${output.trim()}`);
}

async function halt(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.pid === undefined) return;
  if (child.exitCode !== null || child.signalCode !== null) return;
  process.kill(child.pid, "SIGTERM");
  const timer = setTimeout(() => {
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
      process.kill(child.pid, "SIGKILL");
    }
  }, 3000);
  await exited(child);
  clearTimeout(timer);
}

/**
 * Starts `redis-server` on a free 127.0.0.1 port with a temporary directory and no persistence
 * (`--save "" --appendonly no`). Throws REDIS_INSTALL_HINT when redis-server is not installed.
 */
export async function startRedisServer(options: StartRedisOptions = {}): Promise<RedisServer> {
  const bin = findRedisServer();
  killAllOnExit();
  const readyTimeoutMs = options.readyTimeoutMs ?? 10_000;
  const dir = mkdtempSync(join(tmpdir(), "vbapi-redis-"));
  let port = options.port ?? 0;
  let child: ChildProcess | undefined;
  // A free port can be taken between probing and binding: try a few.
  for (let attempt = 0; !child; attempt++) {
    if (!options.port) port = await freePort();
    try {
      child = await launch(bin, port, dir, readyTimeoutMs);
    } catch (error) {
      if (options.port || attempt >= 2) {
        rmSync(dir, { recursive: true, force: true });
        throw error;
      }
    }
  }
  let stopped = false;
  return {
    url: `redis://127.0.0.1:${port}`,
    host: "127.0.0.1",
    port,
    dir,
    get pid() {
      return child?.pid ?? -1;
    },
    get running() {
      return !!child && child.exitCode === null && child.signalCode === null;
    },
    async halt() {
      await halt(child);
    },
    async restart() {
      if (stopped) throw new Error("restart() after stop()");
      await halt(child);
      child = await launch(bin, port, dir, readyTimeoutMs);
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await halt(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
