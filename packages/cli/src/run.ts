// One session of a run: read the file, skip rows an earlier session finished, convert and
// validate the rest, hand them to the SDK's bulk engine (streaming report mode), and commit
// every settled row to the run folder as it settles.
import { closeSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import { join } from "node:path";
import {
  BulkCallbackError,
  BulkInputError,
  type BulkItem,
  type BulkProgress,
  createVbapiClient,
  DEFAULT_CHUNK_SIZE,
  DEFAULT_RATE_LIMIT,
  type Limiter,
  type Logger,
  type RateLimitOptions,
  SDK_VERSION,
  upsertAll,
} from "@vbapi-sdk/client";
import pkg from "../package.json" with { type: "json" };
import type { Credentials } from "./auth.ts";
import { Converter, type Issue, type Target } from "./convert.ts";
import type { Counters, Display } from "./display.ts";
import { InputError, isInvalidJsonLine, type OpenedInput, openInput } from "./read.ts";
import {
  failedFileName,
  type JournalState,
  LOCK_FILE,
  type RunConfig,
  type RunFiles,
  SUCCEEDED_FILE,
} from "./run-dir.ts";
import type { CliEntity } from "./schema.ts";

export const CLI_VERSION: string = pkg.version;

export const EXIT = {
  ok: 0,
  rowsFailed: 1,
  usage: 2,
  auth: 3,
  interrupted: 130,
} as const;

export type RunStatus = "complete" | "interrupted" | "stopped-auth" | "input-error" | "error";

export interface SessionOptions {
  files: RunFiles;
  config: RunConfig;
  entity: CliEntity;
  /** The journal of earlier sessions (resume). */
  journal: JournalState | undefined;
  display: Display;
  credentials: Credentials;
  /** A limiter shared with other processes (`--redis`); default the client's own bucket. */
  limiter?: Limiter | undefined;
  /** The input, when the caller already opened it (stdin can be opened only once). */
  input?: OpenedInput;
}

export interface SessionResult {
  status: RunStatus;
  exitCode: number;
  summary: Record<string, unknown>;
}

/** The `rateLimit` client option for `--rate-limit`. Burst keeps the SDK's proportion. */
export function rateLimitOption(
  value: number | "off" | undefined,
): RateLimitOptions | false | undefined {
  if (value === undefined) return undefined;
  if (value === "off") return false;
  const ratio = DEFAULT_RATE_LIMIT.burst / DEFAULT_RATE_LIMIT.requestsPerSecond;
  return { requestsPerSecond: value, burst: Math.max(1, Math.floor(value * ratio)) };
}

export function shellQuote(text: string): string {
  return /^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}

export class LockError extends Error {
  override name = "LockError";
}

/** A process that has exited but was not reaped yet (Linux: state Z in /proc). */
function isZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z");
  } catch {
    return false;
  }
}

/** Refuses a second process on the same run folder (a lock whose process died is taken over). */
export function acquireLock(dir: string): void {
  const path = join(dir, LOCK_FILE);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, "wx");
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      const pid = Number(readFileSync(path, "utf8").trim());
      let alive = false;
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid) {
        try {
          process.kill(pid, 0);
          alive = !isZombie(pid);
        } catch (e) {
          alive = (e as NodeJS.ErrnoException).code === "EPERM";
        }
      }
      if (alive) throw new LockError(`another vbapi process (pid ${pid}) is working on ${dir}`);
      rmSync(path, { force: true });
    }
  }
  throw new Error(`cannot lock ${dir}`);
}

export function releaseLock(dir: string): void {
  rmSync(join(dir, LOCK_FILE), { force: true });
}

function describeIssues(issues: Issue[]): string {
  return issues
    .map((i) => (i.column ? `column "${i.column}": ${i.message}` : i.message))
    .join("; ");
}

interface InFlightRow {
  row: number;
  record: Record<string, unknown>;
  original: { cells?: string[] | undefined; value?: unknown };
  resent: boolean;
}

const STOP = Symbol("stop");

export async function runSession(options: SessionOptions): Promise<SessionResult> {
  const { files, config, entity, journal, display } = options;
  const startedAt = new Date();
  const started = Date.now();
  const converter = new Converter(entity, {
    map: config.convert.map,
    ignoreColumns: config.convert.ignoreColumns,
    ignoreUnknownColumns: config.convert.ignoreUnknownColumns,
    emptyAs: config.convert.emptyAs as never,
    timezoneOffset: config.convert.timezoneOffset,
    pathParams: config.pathParams,
  });
  const input =
    options.input ??
    (await openInput({
      path: config.input.path,
      format: config.input.format,
      delimiter: config.input.delimiter,
    }));
  const header = input.header ?? [];
  const targets: Target[] = input.format === "csv" ? converter.header(header) : [];

  const counters: Counters = {
    read: 0,
    skipped: 0,
    sent: 0,
    succeeded: 0,
    failed: 0,
    invalid: 0,
    inFlight: 0,
    requests: 0,
    retries: 0,
    bytesRead: 0,
    bytesTotal: input.size,
    elapsedMs: 0,
  };
  let rateLimited = 0;
  let created = 0;
  let updated = 0;
  let pending = 0;
  let resent = 0;
  const firstFailures: string[] = [];
  const noteFailure = (row: number, message: string) => {
    if (firstFailures.length < 10) firstFailures.push(`row ${row}: ${message}`);
  };

  // Every HTTP request (the client's own retries included) passes here: counts, 429s.
  const countingFetch: typeof fetch = async (input, init) => {
    counters.requests++;
    const response = await fetch(input, init);
    if (response.status === 429) rateLimited++;
    return response;
  };
  const logger: Logger = {
    debug: () => {},
    info: () => {},
    warn: (...args: unknown[]) => display.log(`warning: ${args.map(String).join(" ")}`),
    error: (...args: unknown[]) => display.log(`error: ${args.map(String).join(" ")}`),
  } as Logger;
  const client = createVbapiClient({
    baseUrl: config.client.baseUrl,
    apiKey: options.credentials.apiKey,
    token: options.credentials.token,
    database: config.client.database,
    rateLimit: rateLimitOption(config.client.rateLimit),
    ...(options.limiter ? { limiter: options.limiter } : {}),
    fetch: countingFetch,
    logger,
  });
  const abort = new AbortController();
  let stopRequested = false;
  /** Wakes the engine's pending read when a stop is requested. */
  let wakeStop: (() => void) | undefined;
  let authStopped = false;
  /** What VBA said when it refused the credentials (the SDK's message: no secrets). */
  let authMessage: string | undefined;
  let writeError: unknown;
  let readError: unknown;
  const skip = journal?.final;
  const readMark = journal?.readMark ?? 0;
  const ahead = config.client.chunkSize ?? DEFAULT_CHUNK_SIZE;

  const sessionStats = () => ({
    requests: counters.requests,
    retries: counters.retries,
    rateLimited,
    elapsedMs: Date.now() - started,
  });
  let commitScheduled = false;
  const commitNow = () => {
    commitScheduled = false;
    if (writeError !== undefined) return;
    try {
      files.commit(sessionStats());
    } catch (error) {
      writeError = error;
      stop("write-error");
      abort.abort();
    }
  };
  const scheduleCommit = () => {
    if (commitScheduled) return;
    commitScheduled = true;
    setImmediate(commitNow);
  };

  function stop(reason: string): void {
    if (stopRequested) return;
    stopRequested = true;
    wakeStop?.();
    display.event("stopping", { reason, inFlight: counters.inFlight });
  }

  // Rows from the file, minus those already final, converted; invalid ones are final here.
  async function* produce(): AsyncGenerator<InFlightRow> {
    for await (const r of input.rows) {
      counters.read++;
      if (skip?.has(r.row)) {
        counters.skipped++;
        continue;
      }
      const original = r.cells !== undefined ? { cells: r.cells } : { value: r.value };
      let converted: { record: Record<string, unknown>; issues: Issue[] };
      if (r.cells !== undefined)
        converted = converter.fromCells(header, targets, r.cells, r.badUtf8);
      else if (isInvalidJsonLine(r.value)) {
        original.value = { _invalidJson: r.value.line };
        converted = { record: {}, issues: [{ column: "", message: "is not valid JSON" }] };
      } else converted = converter.fromObject(r.value, r.badUtf8);
      if (converted.issues.length > 0) {
        counters.invalid++;
        const message = `invalid, not sent: ${describeIssues(converted.issues)}`;
        noteFailure(r.row, message);
        files.addFailed(r.row, original, 0, message, "", false, true);
        scheduleCommit();
        continue;
      }
      yield { row: r.row, record: converted.record, original, resent: r.row <= readMark };
    }
  }

  const inFlight = new Map<number, InFlightRow>();
  let nextIndex = 0;
  const rows = produce();
  // The engine's view of the input: stops at once on the first Ctrl-C, even mid-read.
  const records: AsyncIterable<Record<string, unknown>> = {
    [Symbol.asyncIterator]: () => ({
      async next(): Promise<IteratorResult<Record<string, unknown>>> {
        if (stopRequested) return { done: true, value: undefined };
        // Not Promise.race with a long-lived promise: that would keep one reaction per row.
        // A broken input ends the input here: the rows read before it are still sent.
        const result = await new Promise<IteratorResult<InFlightRow> | typeof STOP>((resolve) => {
          wakeStop = () => resolve(STOP);
          rows.next().then(resolve, (error: unknown) => {
            readError = error;
            resolve(STOP);
          });
        });
        wakeStop = undefined;
        if (result === STOP || result.done || stopRequested)
          return { done: true, value: undefined };
        const item = result.value;
        files.markRead(item.row, ahead); // before the engine can send it
        inFlight.set(nextIndex++, item);
        return { done: false, value: item.record };
      },
      async return(): Promise<IteratorResult<Record<string, unknown>>> {
        return { done: true, value: undefined };
      },
    }),
  };

  const onRecord = (item: BulkItem) => {
    const info = inFlight.get(item.index);
    if (info === undefined) return;
    inFlight.delete(item.index);
    const activityId = item.activityId ?? "";
    if (item.outcome === "created" || item.outcome === "updated") {
      counters.succeeded++;
      if (item.outcome === "created") created++;
      else updated++;
      if (info.resent) resent++;
      files.addSucceeded(
        info.row,
        item.key as Record<string, unknown>,
        item.outcome,
        activityId,
        info.resent,
      );
    } else {
      const auth = item.status === 401 || item.status === 403;
      if (auth) {
        authStopped = true;
        authMessage ??= item.message.split("; not sent")[0];
      }
      // Not final: never sent, stopped by 401/403, or cut off by the abort. Resume sends them.
      if (item.outcome === "not_attempted" || auth || (abort.signal.aborted && item.status === 0)) {
        pending++;
      } else {
        counters.failed++;
        if (info.resent) resent++;
        const message = `${info.resent ? "resent after an interruption; " : ""}${item.message}`;
        noteFailure(info.row, `HTTP ${item.status || "-"}: ${message}`);
        files.addFailed(
          info.row,
          info.original,
          item.status,
          message,
          activityId,
          item.mayHaveBeenApplied,
          false,
        );
      }
    }
    scheduleCommit();
  };

  const refresh = (force = false) => {
    counters.bytesRead = input.bytesRead();
    counters.elapsedMs = Date.now() - started;
    counters.sent = counters.succeeded + counters.failed + counters.inFlight;
    display.update(counters, force);
  };
  const onProgress = (p: BulkProgress) => {
    counters.inFlight = p.inFlight;
    counters.retries = p.retries;
    refresh();
  };

  const onSignal = (signal: NodeJS.Signals) => {
    if (!stopRequested) {
      stop(signal);
      display.log(
        `\n${signal}: no more rows are read; waiting for the ${counters.inFlight} rows in flight. Press Ctrl-C again to abort them.`,
      );
    } else if (!abort.signal.aborted) {
      display.log(`${signal}: aborting the requests in flight`);
      abort.abort();
    }
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  const ticker = setInterval(() => refresh(), 250);
  ticker.unref();

  display.event("start", {
    runDir: files.dir,
    entity: entity.name,
    input: config.input.path,
    bytes: input.size ?? null,
    session: files.sessionNumber,
    alreadyDone: journal?.final.size ?? 0,
  });
  display.start(entity.name, counters);

  let inputError: unknown;
  let callbackError: unknown;
  let report: Awaited<ReturnType<typeof upsertAll>> | undefined;
  try {
    report = await upsertAll(
      client,
      entity.entity,
      records as never,
      {
        chunkSize: config.client.chunkSize,
        concurrency: config.client.concurrency,
        signal: abort.signal,
        onProgress,
        onRecord,
        report: "totals",
        pathParams: config.pathParams,
      } as never,
    );
  } catch (error) {
    if (error instanceof BulkInputError) {
      report = error.report;
      inputError = error.cause;
    } else if (error instanceof BulkCallbackError) {
      report = error.report;
      callbackError = error.cause;
    } else throw error;
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    clearInterval(ticker);
    input.close();
  }
  inputError ??= readError;
  // Rows handed to the engine that it never reported (cannot happen; kept resumable if it did).
  pending += inFlight.size;
  counters.inFlight = 0;
  counters.retries = report?.retries ?? counters.retries;
  commitNow();
  refresh(true);
  display.stop(counters);

  const problem = writeError ?? callbackError;
  const status: RunStatus =
    problem !== undefined
      ? "error"
      : stopRequested
        ? "interrupted"
        : authStopped
          ? "stopped-auth"
          : inputError !== undefined
            ? "input-error"
            : "complete";
  const before = journal?.counts ?? { c: 0, u: 0, f: 0, i: 0 };
  const totals = {
    rows:
      before.c +
      before.u +
      before.f +
      before.i +
      counters.succeeded +
      counters.failed +
      counters.invalid +
      pending,
    created: before.c + created,
    updated: before.u + updated,
    failed: before.f + counters.failed,
    invalid: before.i + counters.invalid,
    pending,
    resent,
  };
  const exitCode =
    status === "error" || status === "input-error"
      ? EXIT.usage
      : status === "interrupted"
        ? EXIT.interrupted
        : status === "stopped-auth"
          ? EXIT.auth
          : totals.failed + totals.invalid > 0 || pending > 0
            ? EXIT.rowsFailed
            : EXIT.ok;
  const resumable =
    status !== "input-error" &&
    (pending > 0 || status !== "complete") &&
    config.input.sha256 !== undefined;
  const resumeCommand = resumable ? `vbapi resume ${shellQuote(files.dir)}` : undefined;
  const earlier = [...(journal?.sessions ?? new Map()).entries()].filter(
    ([n]) => n !== files.sessionNumber,
  );
  const sum = (
    f: (s: { requests: number; retries: number; rateLimited: number; elapsedMs: number }) => number,
  ) => earlier.reduce((n, [, s]) => n + f(s), 0);
  const errorMessage =
    problem !== undefined
      ? `writing the run folder failed: ${(problem as NodeJS.ErrnoException).code ?? (problem as Error).message}`
      : inputError !== undefined
        ? inputError instanceof InputError
          ? inputError.message
          : `reading the input failed: ${(inputError as Error).message}`
        : undefined;
  const summary = {
    status,
    exitCode,
    ...(errorMessage ? { error: errorMessage } : {}),
    ...(authMessage ? { refusedBy: authMessage } : {}),
    resumable,
    ...(resumeCommand ? { resumeCommand } : {}),
    entity: entity.name,
    schema: entity.entity,
    input: {
      path: config.input.path,
      size: config.input.size ?? input.size ?? null,
      sha256: config.input.sha256 ?? input.digest() ?? null,
      format: config.input.format,
      gzip: config.input.gzip,
      ...(config.input.delimiter ? { delimiter: config.input.delimiter } : {}),
    },
    target: {
      baseUrl: config.client.baseUrl,
      database: config.client.database,
      ...(config.pathParams ? { pathParams: config.pathParams } : {}),
    },
    totals,
    requests: sum((s) => s.requests) + counters.requests,
    retries: sum((s) => s.retries) + counters.retries,
    rateLimited: sum((s) => s.rateLimited) + rateLimited,
    timings: {
      createdAt: config.createdAt,
      sessionStartedAt: startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      sessionMs: Date.now() - started,
      totalMs: sum((s) => s.elapsedMs) + (Date.now() - started),
      sessions: files.sessionNumber,
    },
    files: {
      failed: join(files.dir, failedFileName(config.input.format)),
      succeeded: join(files.dir, SUCCEEDED_FILE),
    },
    sdkVersion: SDK_VERSION,
    cliVersion: CLI_VERSION,
    peakRssBytes: process.resourceUsage().maxRSS * 1024,
  };
  files.writeSummary(summary);
  return { status, exitCode, summary: { ...summary, firstFailures } };
}
