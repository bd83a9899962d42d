// Test helpers: runs the BUILT `vbapi` bin as a child process, as a user would; temp folders
// that are removed after the test file; readers for the run folder's files.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
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
  options: { env?: Record<string, string | undefined>; input?: string | Buffer; cwd?: string } = {},
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

export function vbapi(
  args: string[],
  options: { env?: Record<string, string | undefined>; input?: string | Buffer; cwd?: string } = {},
): Promise<Result> {
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
