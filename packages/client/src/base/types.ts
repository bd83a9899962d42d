// Result types shared by the single-batch call (core) and the bulk engine (bulk/).
// This file is the contract between the two: change it only with both in mind.

/** What happened to one record of a single batch request. */
export type Outcome = "created" | "updated" | "failed";

/** One input record's result, in input order. */
export interface BatchItem<K = Record<string, unknown>> {
  /** Index of the record in the array the caller passed. */
  index: number;
  /** The record's key field values (from the spec's `x-vbapi-key`). */
  key: K;
  /** The per-record HTTP status VBA reported (201, 200, 4xx, 5xx), or 0 when none was reported. */
  status: number;
  outcome: Outcome;
  /** VBA's message ("Created", "Updated" or the error text), or the SDK's explanation. */
  message: string;
}

/** The typed result of one batch request (a 207 answer). */
export interface BatchResult<K = Record<string, unknown>> {
  items: BatchItem<K>[];
  succeeded: number;
  failed: number;
  /** VBA's `debug.activityID` for the call, when it sent one. */
  activityId: string | undefined;
}

/** What finally happened to one record of a bulk upsert. */
export type BulkOutcome = Outcome | "not_attempted";

export interface BulkItem<K = Record<string, unknown>> {
  index: number;
  key: K;
  outcome: BulkOutcome;
  /** Last per-record or whole-request status seen; 0 when no answer was received. */
  status: number;
  message: string;
  /** How many requests carried this record. */
  attempts: number;
  /**
   * True when the record did not succeed and some attempt failed ambiguously (a connection
   * reset, timeout or abort after the request was sent, a gateway's 502 or 504 or a CDN's 520
   * or 524 in a bulk run, an unreadable 2xx body, or a record the server did not report on): the
   * server may have applied it, so re-check it.
   */
  mayHaveBeenApplied: boolean;
  /** VBA's `debug.activityID` of the last answer about this record (quote it to VBA). */
  activityId: string | undefined;
  /**
   * Set when the run's stop (see {@link BulkReport.stopped}) left this record unfinished: not
   * sent (again) because the run stopped. It is then `not_attempted`, also when it was sent
   * before and answered with a retryable status (429, 5xx: `attempts` counts those sends); a
   * record an earlier attempt may have reached is `failed` with `mayHaveBeenApplied`. Sending
   * it again later is safe (the endpoints upsert). The records of the request VBA refused with
   * 401/403 (which stopped the run) are `failed` with that status and `stopped: "refused"`; a
   * record refused alone inside a 207 has no `stopped`.
   */
  stopped?: BulkStop["reason"] | undefined;
  /**
   * Set on a `not_attempted` record held back in this run: an earlier record with the same key
   * went in a request given up on without its answer (a timeout, a connection cut after sending,
   * an abort in flight) or answered by a gateway's 502/504 (a CDN's 520/524), which VBA may still
   * apply after anything sent since. Send it again once that record is checked.
   */
  heldBack?: true | undefined;
}

export interface BulkReport<K = Record<string, unknown>> {
  /** Every input record exactly once, ordered by input index. */
  items: BulkItem<K>[];
  totals: {
    total: number;
    created: number;
    updated: number;
    failed: number;
    notAttempted: number;
  };
  requests: number;
  retries: number;
  /** HTTP 429 answers received during the run. */
  rateLimited: number;
  activityIds: string[];
  elapsedMs: number;
  /**
   * Why the run stopped before sending every record; absent when it did not stop (or only the
   * caller's signal aborted it). `reason` says what kind of stop it was, to act on without
   * reading words; `message` says it in words (the same words as the unsent records' message):
   * - `"unreachable"`: a request never left the machine (the host cannot be resolved or reached,
   *   TLS failed, the SDK's own login cannot connect) after the client's retries: at once before
   *   the run's first answer, else once the records' re-sends are spent (up to
   *   `maxRecordRetries`, 7 × `recordRetryDelayMs` × 2^(n−1) apart: with the defaults a restart
   *   of up to ~10 s is survived and a lasting outage stops the run about 15 s after it starts).
   *   The records not sent are `not_attempted`: run them again once the server can be reached.
   * - `"refused"`: the server refused the credentials (401 or 403).
   * - `"error"`: anything else that stops a run (a token provider that kept failing, a request
   *   that cannot be built, the input or `onRecord` failing).
   */
  stopped?: BulkStop | undefined;
}

/** Why a bulk run stopped early: see {@link BulkReport.stopped}. */
export interface BulkStop {
  reason: "unreachable" | "refused" | "error";
  message: string;
}

export interface BulkProgress {
  done: number;
  failed: number;
  inFlight: number;
  requests: number;
  retries: number;
  elapsedMs: number;
  total: number | undefined;
}
