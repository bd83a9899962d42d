// The bulk engine's contract with the outside world (the driver) and its options.
import { ConfigurationError } from "../base/errors.ts";
import { AT_MOST_LONGEST_TIMER, MAX_TIMER_MS } from "../base/timeout.ts";
import type { BatchResult, BulkItem, BulkProgress } from "../base/types.ts";
import { DEFAULT_PROGRESS_INTERVAL_MS } from "./progress.ts";

/** An integer option of upsertAll, at least `min`; anything else is a ConfigurationError. */
export function positiveInt(name: string, value: number, min: number): number {
  if (!Number.isInteger(value) || value < min) {
    throw new ConfigurationError(`upsertAll: ${name} must be an integer >= ${min}`);
  }
  return value;
}

/** How a whole-request failure is to be handled, as the driver classifies it. */
export interface RequestFailure {
  /** HTTP status of the final answer, or 0 when none was received. */
  status: number;
  /** Safe message (no record contents, no credentials). */
  message: string;
  /** Worth sending the records again (see core/retry.ts). */
  retryable: boolean;
  /** The request (or an earlier attempt of it) may have been applied by the server. */
  mayHaveBeenApplied: boolean;
  /** Every further request would fail the same way (401, 403, a request that cannot be built). */
  fatal: boolean;
  /** The run's own abort signal ended the request. */
  aborted: boolean;
  /**
   * Never sent because the server (or the SDK's own login) could not be reached: the host
   * cannot be resolved, the connection is refused, TLS fails. Before the run's first answer
   * it stops the run at once (`BulkReport.stopped.reason` "unreachable").
   */
  unreachable?: boolean;
  /** The request timed out (the chunk size and the concurrency shrink after one). */
  timedOut?: boolean;
  /** VBA's activity id, when the failed answer carried one. */
  activityId?: string | undefined;
}

/** What one request came to: per-record results, or a whole-request failure. */
export type SendOutcome =
  | {
      ok: true;
      result: BatchResult<unknown>;
      /** An earlier attempt of the request may have been applied (records reported failed may still have been). */
      mayHaveBeenApplied: boolean;
    }
  | { ok: false; failure: RequestFailure };

/** Counters a driver updates as requests happen (it sees the client's own retries). */
export interface DriverStats {
  /** HTTP requests made, including the client's own retries. */
  requests: number;
  /** Whole-request retries made by the client. */
  requestRetries: number;
  /** HTTP 429 answers received. */
  rateLimited: number;
}

/** A record ready to send, or why it cannot be sent. */
export type Prepared = { ok: true; json: string } | { ok: false; message: string };

/** What the engine needs from the outside world for one entity. */
export interface BulkDriver<R, K> {
  /** The record's key field values, for the report (must not throw on malformed records). */
  keyOf(record: R): K;
  /** The identity of a key: records with the same identity never share a request. */
  keyIdOf(key: K): string;
  /** Validates and serializes a record (never throws). */
  prepare(record: R): Prepared;
  /**
   * Sends one batch: `json` is the records' JSON array. Resolves with per-record results
   * indexed by position in `records`, or with the failure; never rejects. Counts requests in
   * `stats`.
   */
  send(
    records: R[],
    json: string,
    signal: AbortSignal | undefined,
    stats: DriverStats,
    /** The records' keys, as `keyOf` gave them. */
    keys: K[],
  ): Promise<SendOutcome>;
  /** The rate limit in requests per second, when known (sizes the adaptive concurrency). */
  rate?(): number | undefined;
  /** How many requests the rate limit lets go at once, when known (the first round). */
  burst?(): number | undefined;
  /** An answer reported records as 429: pause the shared rate limiter like a whole-request 429. */
  onRecordsRateLimited?(): void;
}

/** Tuning and hooks of a bulk run (all optional). */
export interface BulkOptions<K = Record<string, unknown>> {
  /** Maximum records per request. Default 500. */
  chunkSize?: number;
  /**
   * Maximum serialized request body size in bytes (UTF-8 JSON). Default 1 MiB. A record that
   * alone exceeds it is sent in a request of its own (the limit is a grouping target).
   */
  maxChunkBytes?: number;
  /**
   * Requests in flight at once. Default: adaptive. Before the first answer, the client's own
   * rate-limit burst (45 with the default rate limit; 4 when the burst is not known or
   * unlimited: a limiter shared through Redis, `rateLimit: false`); then the rate × the measured
   * round trip (Little's law; 8 when the rate is not known or unlimited); always at most 48,
   * and halved for a while after a timeout or a 429. A number fixes it. The client's rate
   * limiter sets the rate either way.
   */
  concurrency?: number;
  /**
   * How many times a record may be re-sent after a retryable per-record status (429, 5xx, or
   * not reported by the server), or after a retryable whole-request failure. Default 3. After
   * the run's first answer, a request that never left the machine (the server restarting, a
   * failover) re-sends its records up to this many times (at least once), `7 ×
   * recordRetryDelayMs × 2^(n−1)` after the failed attempt began (1.75, 3.5, 7 s by default),
   * then the run stops (`report.stopped`, reason `"unreachable"`): about 15 s after a lasting
   * outage starts with the defaults. Once the run has stopped, a record that would be re-sent
   * is reported `not_attempted` with `stopped` set instead.
   */
  maxRecordRetries?: number;
  /**
   * Delay before a record is re-sent: `recordRetryDelayMs × 2^(re-send number − 1)`, capped at
   * 30 s. Default 250 ms (7 × that after a request that never left: see `maxRecordRetries`).
   * Records that are not ready yet do not hold up other records.
   */
  recordRetryDelayMs?: number;
  /**
   * With a slow input (an async iterable), how long a partly filled chunk waits for more
   * records before it is sent anyway. Default 100 ms.
   */
  lingerMs?: number;
  /** Cancels the run: the promise then resolves with a report (see `upsertAll`). */
  signal?: AbortSignal;
  /**
   * Progress callback, called at most every `progressIntervalMs` and once at the end (errors it
   * throws are ignored). `done`: records with a final outcome (created, updated, failed or
   * not attempted); `failed`: those failed; `inFlight`: records in requests under way;
   * `requests`/`retries`: as in the report; `total`: the input length for arrays, for other
   * inputs `undefined` until the input is exhausted.
   */
  onProgress?: (progress: BulkProgress) => void;
  /** Minimum time between two `onProgress` calls. Default 200 ms. */
  progressIntervalMs?: number;
  /**
   * Called once per record, as soon as its outcome is final (in the order outcomes become
   * final, not input order), with the same item the report holds. If it throws, the run stops
   * as on abort (nothing more is sent; in-flight requests finish) and `upsertAll` rejects with a
   * `BulkCallbackError` carrying the report; later items are not passed to it.
   */
  onRecord?: (item: BulkItem<K>) => void;
  /**
   * `"items"` (default): the report lists every record. `"totals"`: the report keeps only the
   * counts (`items` is empty), so memory does not grow with the input: take the items from
   * `onRecord` instead.
   */
  report?: "items" | "totals";
  /**
   * For a load that resumes an interrupted one: true for a record an earlier run may have sent
   * without learning what became of it (its request was in flight when that run was killed or
   * aborted). That request may still be applied, after anything sent now: the record itself is
   * sent (the same data, whichever copy lands last), and the later records with its key are held
   * back in this run (`not_attempted` with `heldBack`), as after a request this run gave up on.
   * Called once per record as it is read, with its index in this run; a throw counts as true.
   */
  sentBefore?: (index: number) => boolean;
}

/**
 * Concurrency of a run before its first answer when the rate limit's burst is not known or
 * unlimited (then it adapts: see {@link BulkOptions.concurrency}).
 */
export const DEFAULT_CONCURRENCY = 4;
/** Default {@link BulkOptions.maxRecordRetries}. */
export const DEFAULT_MAX_RECORD_RETRIES = 3;
/** Default {@link BulkOptions.recordRetryDelayMs}. */
export const DEFAULT_RECORD_RETRY_DELAY_MS = 250;
/** Default {@link BulkOptions.lingerMs}. */
export const DEFAULT_LINGER_MS = 100;
/** Cap on a record's re-send delay. */
export const MAX_RECORD_RETRY_DELAY_MS = 30_000;
/**
 * A request that never left the machine (after the run's first answer): its records' n-th
 * re-send goes out `UNSENT_RETRY_FACTOR × recordRetryDelayMs × 2^(n−1)` after the failed
 * attempt began (1.75 s, 3.5 s, 7 s by default), so a lasting outage stops the run about 15 s
 * after it starts, and a restart of up to ~10 s is survived.
 */
export const UNSENT_RETRY_FACTOR = 7;

/** The engine's record-retry and linger settings from `upsertAll`'s options, checked. */
export function retrySettings(options: {
  maxRecordRetries?: number | undefined;
  recordRetryDelayMs?: number | undefined;
  lingerMs?: number | undefined;
}): { maxRecordRetries: number; retryDelayMs: number; lingerMs: number } {
  return {
    maxRecordRetries: positiveInt(
      "maxRecordRetries",
      options.maxRecordRetries ?? DEFAULT_MAX_RECORD_RETRIES,
      0,
    ),
    retryDelayMs: delayMs(
      "recordRetryDelayMs",
      options.recordRetryDelayMs,
      DEFAULT_RECORD_RETRY_DELAY_MS,
    ),
    lingerMs: delayMs("lingerMs", options.lingerMs, DEFAULT_LINGER_MS),
  };
}

/**
 * `progressIntervalMs`: a throttle on timestamps, not a timer, so any number of ms from 0 up
 * (Infinity: the first call and the last); NaN or not a number is refused.
 */
export function progressInterval(value: number | undefined): number {
  const ms = value ?? DEFAULT_PROGRESS_INTERVAL_MS;
  if (typeof ms !== "number" || Number.isNaN(ms)) {
    throw new ConfigurationError("upsertAll: progressIntervalMs must be a number of milliseconds");
  }
  return Math.max(0, ms);
}

/** `sentBefore`: a function, or undefined. */
export function sentBeforeOption(
  value: BulkOptions["sentBefore"],
): ((index: number) => boolean) | undefined {
  if (value !== undefined && typeof value !== "function") {
    throw new ConfigurationError("upsertAll: sentBefore must be a function (index) => boolean");
  }
  return value;
}

/** A delay option in ms: a finite number (below 0 counts as 0); NaN or Infinity is refused. */
function delayMs(name: string, value: number | undefined, fallback: number): number {
  const ms = value ?? fallback;
  if (typeof ms !== "number" || !Number.isFinite(ms) || ms > MAX_TIMER_MS) {
    throw new ConfigurationError(
      `upsertAll: ${name} must be a finite number of milliseconds, ${AT_MOST_LONGEST_TIMER}`,
    );
  }
  return Math.max(0, ms);
}
