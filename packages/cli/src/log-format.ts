// The CLI's log lines on stderr (warnings, retries, the login, errors): text for a person
// (`--log-format text`, the default) or one JSON object per line for a log pipeline
// (`--log-format json`): time, level, message, the run folder and the run's trace id.
//
// With JSON, every line on stderr must parse, including the lines of code that writes to
// stderr itself (the end-of-run report, commander's usage errors): while the JSON format is on,
// stderr is wrapped so that each such line becomes a record too. Progress is not logged: no bar
// and no progress lines go to stderr with JSON (`--json` puts progress events on stdout).

import { io, replaceStderr } from "./io.ts";
import { safeJson, terminalText } from "./safe-text.ts";

export type LogFormat = "text" | "json";
export type LogLevel = "info" | "warn" | "error";

/** What text mode puts before a message of each level. */
const TEXT_PREFIX: Record<LogLevel, string> = { info: "", warn: "warning: ", error: "error: " };

let format: LogFormat = "text";
const context: { runDir: string | null; traceId: string | null } = {
  runDir: null,
  traceId: null,
};
/** stderr's own write while the JSON format wraps it. */
let rawWrite: ((text: string) => boolean) | undefined;
/** A line written to stderr by other code, not ended yet. */
let partial = "";
/** Puts stderr's own write back. */
let restore: (() => void) | undefined;

/** `--log-format` as given in `argv` (read before commander, so its own errors follow it). */
export function logFormatOf(argv: readonly string[]): LogFormat {
  let found: LogFormat = "text";
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--") break;
    const value = arg === "--log-format" ? argv[i + 1] : arg?.match(/^--log-format=(.*)$/)?.[1];
    if (value === "json" || value === "text") found = value;
  }
  return found;
}

export function logFormat(): LogFormat {
  return format;
}

/** Adds what is known of the run (its folder, its trace id) to every later JSON line. */
export function setLogContext(fields: { runDir?: string; traceId?: string | null }): void {
  if (fields.runDir !== undefined) context.runDir = fields.runDir;
  if (fields.traceId !== undefined) context.traceId = fields.traceId;
}

function record(level: LogLevel, message: string): string {
  return `${safeJson({ time: new Date().toISOString(), level, message, ...context })}\n`;
}

/**
 * A log line. Text: `prefix` (default by level: `warning: `, `error: `) and the message, made
 * safe for a terminal. `text: false`: the line is for JSON logs only (the login, a token
 * refresh), kept off the terminal as before.
 */
export function log(
  level: LogLevel,
  message: string,
  options: { prefix?: string; text?: boolean } = {},
): void {
  if (format === "json") {
    if (message.trim() === "") return;
    (rawWrite ?? ((t: string) => io().stderr.write(t)))(record(level, message));
    return;
  }
  if (options.text === false) return;
  io().stderr.write(`${terminalText(`${options.prefix ?? TEXT_PREFIX[level]}${message}`)}\n`);
}

/** The text-mode prefix of a level (the terminal's `warning: `, `error: `). */
export function textPrefix(level: LogLevel): string {
  return TEXT_PREFIX[level];
}

/** A line some other code wrote to stderr, as a record; its level from its usual prefix. */
function foreignLine(line: string): void {
  const text = line.replace(/\r$/, "");
  if (text.trim() === "" || rawWrite === undefined) return;
  const prefixed = text.match(/^(warning|error|vbapi): (.*)$/s);
  const level: LogLevel =
    prefixed?.[1] === "warning" ? "warn" : prefixed === null ? "info" : "error";
  rawWrite(record(level, prefixed?.[2] ?? text));
}

/**
 * Starts a format. With JSON, every line written to the run's stderr becomes a record until
 * `endLogFormat`: in the bin (`patchProcess`) by wrapping process.stderr's write, so Node's own
 * warnings are records too; in a run of `main` inside another program, the run writes to a
 * stand-in for its stderr instead, and the host's own writes to it are left as they are.
 */
export function useLogFormat(next: LogFormat, patchProcess = false): void {
  endLogFormat();
  format = next;
  if (next !== "json") return;
  const stderr = io().stderr;
  const original = stderr.write;
  rawWrite = (text) => original.call(stderr, text);
  const wrapped = function write(
    chunk: string | Uint8Array,
    encoding?: BufferEncoding | ((error?: Error | null) => void),
    callback?: (error?: Error | null) => void,
  ): boolean {
    partial +=
      typeof chunk === "string"
        ? chunk
        : Buffer.from(chunk).toString(typeof encoding === "string" ? encoding : "utf8");
    const lines = partial.split("\n");
    partial = lines.pop() ?? "";
    for (const line of lines) foreignLine(line);
    const done = typeof encoding === "function" ? encoding : callback;
    if (done) process.nextTick(done);
    return true;
  };
  if (!patchProcess) {
    restore = replaceStderr({ write: wrapped, isTTY: false } as unknown as typeof stderr);
    return;
  }
  stderr.write = wrapped as typeof stderr.write;
  restore = () => {
    stderr.write = original;
  };
}

/** Ends the format: a line left open is written, stderr is unwrapped, the context cleared. */
export function endLogFormat(): void {
  if (partial !== "") foreignLine(partial);
  partial = "";
  restore?.();
  restore = undefined;
  rawWrite = undefined;
  format = "text";
  context.runDir = null;
  context.traceId = null;
}
