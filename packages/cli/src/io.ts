// Where a run of `vbapi` reads and writes: the environment, stdin, stdout and stderr. The bin
// uses the process's own; `main(argv, io)` may be given others (vbapi run inside another
// program, or a test), one run at a time per process (see program.ts).

import type { Readable } from "node:stream";

/** An output the CLI writes text to (stdout or stderr). */
export type CliOutput = NodeJS.WritableStream & { readonly isTTY?: boolean };

/** What `main` may be given instead of the process's own (each part optional). */
export interface CliIo {
  /**
   * The variables vbapi reads itself: VBAPI_*, the proxy variables, XDG_CACHE_HOME, HOME and
   * the OTEL_* settings it checks (the endpoints, headers, protocol, timeout, export interval,
   * OTEL_SDK_DISABLED, OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES). What Node and the
   * OpenTelemetry SDK read on their own (NODE_OPTIONS, NODE_EXTRA_CA_CERTS,
   * NODE_TLS_REJECT_UNAUTHORIZED, OTEL_BSP_*...) comes from process.env.
   */
  env: NodeJS.ProcessEnv;
  /** Read by `-` as the input file. */
  stdin: Readable;
  /** Results, `--json` events, help. */
  stdout: CliOutput;
  /** Progress, warnings and errors; a bar only when `isTTY` is true. */
  stderr: CliOutput;
  /**
   * Stops the run as Ctrl-C twice does in the bin: no more rows are read, the requests in flight
   * are aborted, and the run ends interrupted (130), resumable. Aborted before `main` is
   * called, nothing runs. Only a load (`upsert`, `resume`) is stopped; the other commands
   * send no rows and run to their end.
   */
  signal?: AbortSignal | undefined;
}

const processIo: CliIo = {
  signal: undefined,
  get env() {
    return process.env;
  },
  // process.stdin is made on first use: only a run that reads `-` touches it.
  get stdin() {
    return process.stdin;
  },
  get stdout() {
    return process.stdout;
  },
  get stderr() {
    return process.stderr;
  },
};

let current: CliIo = processIo;
let exitCode: number | undefined;
let ending = new AbortController();
let inRun = false;
/** The first failure of an output `main` was given, in words (`stdout failed (EPIPE)`). */
let outputFailure: string | undefined;
const OUTPUT_GRACE_MS = 1000;

type Watched = { stream: CliOutput; onError: (error: unknown) => void };

function failed(name: string, error: unknown): void {
  const code = (error as { code?: unknown } | null)?.code;
  outputFailure ??= `${name} failed (${typeof code === "string" ? code : "error"})`;
}

/**
 * A given output, guarded: a write that throws (now or later, from a timer such as the progress
 * ticker) is noted, not thrown into the run or the host; an `error` it emits during the run too.
 * The rest of the stream is its own.
 * A terminal is passed as it is (the progress bar drives it).
 */
function guarded(stream: CliOutput, name: string, watched: Watched[]): CliOutput {
  if (typeof stream.on === "function" && typeof stream.removeListener === "function") {
    const onError = (error: unknown) => failed(name, error);
    stream.on("error", onError);
    watched.push({ stream, onError });
  }
  if (stream.isTTY) return stream;
  const write = (chunk: unknown, encoding?: unknown, callback?: unknown): boolean => {
    try {
      return stream.write(chunk as string, encoding as BufferEncoding, callback as () => void);
    } catch (error) {
      failed(name, error);
      return true;
    }
  };
  // Everything but `write` is the stream's own (a later use of `on`, `end`, `writableLength`).
  return new Proxy(stream, {
    get: (target, key) => (key === "write" ? write : Reflect.get(target, key)),
  });
}

/**
 * `parts` over `base`: each part left out is read from `base` when used (process.stdin is made
 * on first use: only a run that reads `-` touches it).
 */
function overlay(base: CliIo, parts: Partial<CliIo>): CliIo {
  return {
    signal: parts.signal ?? base.signal,
    get env() {
      return parts.env ?? base.env;
    },
    get stdin() {
      return parts.stdin ?? base.stdin;
    },
    get stdout() {
      return parts.stdout ?? base.stdout;
    },
    get stderr() {
      return parts.stderr ?? base.stderr;
    },
  };
}

/** The current run's environment and streams (the process's own outside `main`). */
export function io(): CliIo {
  return current;
}

/** For `main`: the run's own parts, the process's for the rest. Returns the undo. */
export function useIo(given: Partial<CliIo>): () => void {
  const previous = current;
  outputFailure = undefined;
  const watched: Watched[] = [];
  const stdout = given.stdout && guarded(given.stdout, "stdout", watched);
  const stderr = given.stderr && guarded(given.stderr, "stderr", watched);
  unwatch = () => {
    for (const { stream, onError } of watched) {
      try {
        stream.removeListener("error", onError);
        // A write still pending may fail later: that error is not the host's to crash on.
        if ((stream as { writableLength?: number }).writableLength) stream.once("error", () => {});
      } catch {} // a stream that cannot: left as it is
    }
  };
  flushWatched = watched.map((w) => w.stream);
  current = overlay(processIo, { ...given, stdout, stderr });
  exitCode = undefined;
  ending = new AbortController();
  inRun = true;
  const ended = ending;
  return () => {
    current = previous;
    exitCode = undefined;
    inRun = false;
    unwatch();
    ended.abort(new Error("the vbapi run ended"));
  };
}

let unwatch = (): void => {};
let flushWatched: CliOutput[] = [];

/**
 * Waits (1 s at most: a reader may be stalled) for what the run wrote to the outputs it was
 * given to be taken, or to fail; then says which failed first, if one did.
 */
export async function outputsSettled(): Promise<string | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, OUTPUT_GRACE_MS);
  });
  const flushed = flushWatched
    .filter((s) => !(s as { writableObjectMode?: boolean }).writableObjectMode)
    .map(
      (stream) =>
        new Promise<void>((resolve) => {
          try {
            stream.write("", () => resolve());
          } catch {
            resolve();
          }
        }),
    );
  await Promise.race([Promise.all(flushed), bound]);
  clearTimeout(timer);
  return outputFailure;
}

/** Until the returned undo: the current run writes its stderr to `stream` (see log-format.ts). */
export function replaceStderr(stream: CliOutput): () => void {
  const run = current;
  const replaced = overlay(run, { stderr: stream });
  current = replaced;
  return () => {
    if (current === replaced) current = run;
  };
}

/**
 * Aborts when the current run of `main` ends: what the run started and no longer waits for (a
 * login under way when the run stopped at once) stops then, instead of going on after `main`.
 */
export function runEnd(): AbortSignal {
  return ending.signal;
}

/**
 * Sets the code the current run ends with (a command's result): `main` returns it. Outside
 * `main` (the exported `buildProgram()` parsed by the caller) it is `process.exitCode`, as
 * before `main` could be given streams.
 */
export function setExitCode(code: number): void {
  if (inRun) exitCode = code;
  else process.exitCode = code;
}

/** The code a command set, if any. */
export function exitCodeSet(): number | undefined {
  return exitCode;
}
