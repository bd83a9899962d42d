// Parent side of server-child.ts: start the reference server in a child process and talk to it.
import { type ChildProcess, fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import { createVbapiClient, type VbapiClient, type VbapiClientOptions } from "@vbapi-sdk/client";
import type { MockServerOptions, MockStats } from "@vbapi-sdk/mock-server";

export const BENCH_DIR = new URL("..", import.meta.url);
export const REPO_ROOT = fileURLToPath(new URL("../../..", import.meta.url));
export const API_KEY = "test-api-key";
export const TOKEN = "test-token";
export const DATABASE = "BENCH";

export interface ServerSnapshot {
  stats: MockStats;
  cpu: NodeJS.CpuUsage;
  rss: number;
}

export interface ServerHandle {
  url: string;
  /** Headers that pass the server's gatekeeping (what a raw fetch / axios user would send). */
  headers: Record<string, string>;
  snapshot(): Promise<ServerSnapshot>;
  reset(): Promise<void>;
  close(): Promise<void>;
}

/** Runs a .ts module of this package in a child process (through tsx), with an IPC channel. */
export function forkTs(file: string, args: string[], execArgv: string[] = []): ChildProcess {
  return fork(new URL(file, import.meta.url), args, {
    cwd: BENCH_DIR,
    execArgv: ["--import", "tsx", ...execArgv],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
}

export async function startServer(options: MockServerOptions): Promise<ServerHandle> {
  const child = forkTs("./server-child.ts", [JSON.stringify(options)]);
  const pending = new Map<number, (data: unknown) => void>();
  let nextId = 1;
  const ready = new Promise<{ url: string }>((resolve, reject) => {
    pending.set(0, (data) => resolve(data as { url: string }));
    child.once("exit", (code) => reject(new Error(`mock server exited early (code ${code})`)));
  });
  child.on("message", (msg: { id: number; data: unknown }) => {
    pending.get(msg.id)?.(msg.data);
    pending.delete(msg.id);
  });
  const call = (cmd: string) =>
    new Promise<unknown>((resolve) => {
      const id = nextId++;
      pending.set(id, resolve);
      child.send({ id, cmd });
    });
  const { url } = await ready;
  return {
    url,
    headers: {
      "content-type": "application/json",
      accept: "application/json",
      "x-api-key": API_KEY,
      authorization: `Bearer ${TOKEN}`,
      "vbasoftware-database": DATABASE,
      "user-agent": "bench/1.0",
    },
    snapshot: () => call("stats") as Promise<ServerSnapshot>,
    reset: async () => {
      await call("reset");
    },
    close: async () => {
      child.removeAllListeners("exit");
      const exited = new Promise((resolve) => child.once("exit", resolve));
      await call("close");
      await exited;
    },
  };
}

/** Server CPU in ms between two snapshots. */
export function serverCpuMs(before: ServerSnapshot, after: ServerSnapshot): number {
  return (after.cpu.user - before.cpu.user + after.cpu.system - before.cpu.system) / 1000;
}

/** Our client against a bench server; rate limit off unless given, warnings silenced. */
export function benchClient(
  url: string,
  options: VbapiClientOptions = { rateLimit: false },
): VbapiClient {
  return createVbapiClient({
    baseUrl: url,
    apiKey: API_KEY,
    token: TOKEN,
    database: DATABASE,
    logLevel: "error",
    ...options,
  });
}
