// Test helpers: runs the BUILT `vbapi` (its bin as a child process, or its `main` in this
// worker: see vbapi()); temp folders that are removed after the test file; readers for the run
// folder's files.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable, Writable } from "node:stream";
import { fileURLToPath } from "node:url";
import { parse } from "csv-parse/sync";
import { afterAll } from "vitest";

export const BIN = fileURLToPath(new URL("../dist/cli.mjs", import.meta.url));

export interface Result {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

const created: string[] = [];

/** A new empty folder under the OS temp dir, removed after the test file that made it. */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "vbapi-cli-"));
  created.push(dir);
  return dir;
}

// Registered by every test file that imports this module: each file gets its own copy, also in
// a worker shared by many files (test/per-file.ts).
afterAll(() => {
  for (const dir of created.splice(0)) {
    rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
  }
});

export function start(
  args: string[],
  options: RunOptions = {},
): { child: ChildProcess; done: Promise<Result> } {
  const env: Record<string, string | undefined> = { ...process.env, ...options.env };
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete env[k];
  const child = spawn(process.execPath, [BIN, ...args], {
    env: env as NodeJS.ProcessEnv,
    cwd: options.cwd,
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout?.setEncoding("utf8").on("data", (d: string) => {
    stdout += d;
  });
  child.stderr?.setEncoding("utf8").on("data", (d: string) => {
    stderr += d;
  });
  if (options.input !== undefined) child.stdin?.end(options.input);
  else child.stdin?.end();
  const done = new Promise<Result>((resolve) => {
    child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return { child, done };
}

type RunOptions = {
  env?: Record<string, string | undefined>;
  input?: string | Buffer;
  cwd?: string;
};

/** The build `dist/cli.mjs` runs (`main(argv).then(process.exit)`). */
const BUILT = new URL("../dist/index.mjs", import.meta.url).href;

/**
 * Variables read by Node or by the OpenTelemetry SDK from the process's own environment, not
 * through the run's (see src/io.ts): a run that sets one to other than this worker's value
 * needs a process of its own. Not NODE_ENV (nothing the CLI loads reads it) nor NODE_PATH
 * (Node's last resort for a bare import; the built CLI's all resolve from its node_modules):
 * vitest and pnpm set them in the worker, and the doctor's runs leave them out.
 */
const PROCESS_WIDE = /^(NODE_(?!ENV$|PATH$)|OTEL_|VBAPI_TEST_|UV_|SSL_|OPENSSL_|TZ$|PATH$)/;

/** Whether `vbapi()` may run `main` in this worker instead of starting the bin. */
export function runsInWorker(options: RunOptions = {}): boolean {
  if (process.env.VBAPI_TEST_BIN === "1" || options.cwd !== undefined) return false;
  // Set as this worker has it (PATH passed on), or left out where this worker has none, such a
  // variable changes nothing the run does here; left out where the worker has it, it would
  // still act (NODE_TLS_REJECT_UNAUTHORIZED=0 in the worker trusts what the run should not).
  const differs = Object.entries(options.env ?? {}).some(
    ([k, v]) => PROCESS_WIDE.test(k) && v !== process.env[k],
  );
  if (differs) return false;
  // Telemetry from the environment the suite runs in would register global providers here.
  return !Object.keys(process.env).some((k) => k.startsWith("OTEL_"));
}

/**
 * Runs `vbapi args` and resolves when it ends. The built `main` runs in this worker, with the
 * environment, stdin, stdout and stderr given to it (as the bin's would be), unless the run
 * needs a process of its own (`cwd`, or a variable Node or OpenTelemetry read from the
 * process: see PROCESS_WIDE); then the bin is started, as {@link start} does. Runs in the worker
 * go one at a time (in the order started). Runs that test the process itself (signals, exit,
 * what it loads, two at once on one folder) use {@link start} or {@link bin}.
 * `VBAPI_TEST_BIN=1` sends every run through the bin (the suite passes both ways).
 */
export function vbapi(args: string[], options: RunOptions = {}): Promise<Result> {
  if (!runsInWorker(options)) return start(args, options).done;
  // main runs one at a time in a process: runs a test starts together go in turn.
  const run = queue.then(() => inWorker(args, options));
  queue = run.catch(() => {});
  return run;
}

let queue: Promise<unknown> = Promise.resolve();

async function inWorker(args: string[], options: RunOptions): Promise<Result> {
  const { main } = (await import(/* @vite-ignore */ BUILT)) as typeof import("../src/index.ts");
  const env: NodeJS.ProcessEnv = { ...process.env, ...options.env };
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete env[k];
  const stdout = capture();
  const stderr = capture();
  const input = options.input === undefined ? [] : [Buffer.from(options.input)];
  const code = await main(args, {
    env,
    stdin: Readable.from(input),
    stdout: stdout.stream,
    stderr: stderr.stream,
  });
  return { code, signal: null, stdout: stdout.text(), stderr: stderr.text() };
}

/** A stream that keeps what is written to it, as text (a run's stdout or stderr in the worker). */
export function capture(): { stream: Writable; text: () => string } {
  let text = "";
  const stream = new Writable({
    decodeStrings: false,
    write(chunk: string | Buffer, _encoding, done) {
      text += typeof chunk === "string" ? chunk : chunk.toString("utf8");
      done();
    },
  });
  return { stream, text: () => text };
}

/** Runs the built bin in a process of its own, whatever the run (see {@link vbapi}). */
export function bin(args: string[], options: RunOptions = {}): Promise<Result> {
  return start(args, options).done;
}

export function readCsv(path: string, delimiter = ","): Record<string, string>[] {
  return parse(readFileSync(path), { columns: true, bom: true, delimiter }) as Record<
    string,
    string
  >[];
}

export function readJson<T = Record<string, unknown>>(path: string): T {
  return JSON.parse(readFileSync(path, "utf8")) as T;
}

export function events(stdout: string): Record<string, unknown>[] {
  return stdout
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** Anything a terminal may act on: C0 controls, DEL, C1 controls, bidi embeddings/overrides/isolates. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
export const RAW_CONTROL = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

/** `text` without its new lines (terminal output and indented JSON have them of their own). */
export const withoutNewLines = (text: string) => text.replace(/\n/g, "");
