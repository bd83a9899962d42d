// A record's way through a run: read and prepared (`prepare`), then what the answer to its
// request makes of it: a 207's items
// (created, updated, failed, re-sent after a retryable status or no report at all), or a whole
// request's failure (bisected on 400/413, re-queued once when retryable, stopping the run when
// fatal). A request that never left the machine after the client's retries leaves its records
// "not attempted": the server cannot be reached before the run's first answer stops the run at
// once; after it, the records are re-sent with growing delays (`UNSENT_RETRY_FACTOR`: a restart,
// a blip), and the run stops when those are spent (`BulkReport.stopped`). Once the run has
// stopped, a record that would be re-sent is left to the final sweep (not attempted, with the
// stop's reason) instead. The run's state is the engine's (engine.ts); these functions decide.

import { clip } from "../base/redact.ts";
import { gatewayGaveUp, isFatalStatus, shouldRetryRecord } from "../base/retry.ts";
import type { BatchResult, BulkStop } from "../base/types.ts";
import { CONFLICTING_MESSAGE } from "../transport/results.ts";
import { utf8Length } from "./chunker.ts";
import type { Concurrency } from "./concurrency.ts";
import type { BulkLedger } from "./ledger.ts";
import {
  type BulkDriver,
  MAX_RECORD_RETRY_DELAY_MS,
  type RequestFailure,
  type SendOutcome,
  UNSENT_RETRY_FACTOR,
} from "./options.ts";
import type { RetryQueue } from "./retry-queue.ts";

/** A record of the run, from the moment it is read until it is final. */
export interface Pending<R, K> {
  index: number;
  record: R;
  key: K;
  bytes: number;
  /** The record serialized once, as it appears in the request body. */
  json: string;
  keyId: string;
  /** Already re-queued once after a whole-request failure. */
  requeuedWhole: boolean;
  /** Re-sends after requests that never left the machine (see `UNSENT_RETRY_FACTOR`). */
  unsent: number;
  /** Sends that were halves of a batch rejected as a whole (they do not count as retries). */
  bisects: number;
}

/** Whole-batch statuses that may be caused by one record: the batch is split to find it. */
const BISECT_STATUSES = new Set([400, 413]);

/** A record read from the input, validated and serialized; undefined (failed here) when invalid. */
export function prepare<R, K>(
  driver: BulkDriver<R, K>,
  ledger: BulkLedger<K>,
  index: number,
  record: R,
  key: K,
): Pending<R, K> | undefined {
  const prepared = driver.prepare(record);
  if (!prepared.ok) {
    ledger.fail(index, 0, `invalid record, not sent: ${prepared.message}`);
    return undefined;
  }
  return {
    index,
    record,
    key,
    bytes: utf8Length(prepared.json),
    json: prepared.json,
    keyId: driver.keyIdOf(key),
    requeuedWhole: false,
    unsent: 0,
    bisects: 0,
  };
}

/** The request for a chunk: its records, their JSON array (serialized once each) and keys. */
export function requestOf<R, K>(
  chunk: readonly Pending<R, K>[],
  ledger: BulkLedger<K>,
): { records: R[]; json: string; keys: K[] } {
  const records: R[] = new Array(chunk.length);
  const keys: K[] = new Array(chunk.length);
  const parts: string[] = new Array(chunk.length);
  for (let i = 0; i < chunk.length; i++) {
    const pending = chunk[i] as Pending<R, K>;
    ledger.attempt(pending.index);
    records[i] = pending.record;
    keys[i] = pending.key;
    parts[i] = pending.json;
  }
  // The brackets go into the first and last parts, so the body comes out of `join` as one flat
  // string (a bracket added around it after would make a rope that is copied again to be sent).
  const last = chunk.length - 1;
  if (last < 0) return { records, json: "[]", keys };
  parts[0] = `[${parts[0]}`;
  parts[last] = `${parts[last]}]`;
  return { records, json: parts.join(","), keys };
}

/** The driver's outcome for a chunk, `elapsedMs` after it was sent. */
export function answered<R, K>(
  run: RunState<R, K>,
  chunk: Pending<R, K>[],
  outcome: SendOutcome,
  elapsedMs: number,
): void {
  // A round trip that reached the server sizes the concurrency (Little's law).
  if (outcome.ok || outcome.failure.status !== 0) {
    run.flow.observe(elapsedMs);
    run.answered = true;
  }
  if (outcome.ok) settleChunk(run, chunk, outcome.result, outcome.mayHaveBeenApplied);
  else failChunk(run, chunk, outcome.failure, elapsedMs);
}

/** A driver must not reject; if one does (a bug), its records are still accounted for. */
export function sendFailedUnexpectedly<R, K>(
  run: RunState<R, K>,
  chunk: Pending<R, K>[],
  error: unknown,
): void {
  failChunk(run, chunk, {
    status: 0,
    message: `unexpected ${error instanceof Error ? error.name : typeof error} while sending`,
    retryable: false,
    mayHaveBeenApplied: true,
    fatal: true,
    aborted: false,
  });
}

/** What of a run the answers change. */
export interface RunState<R, K> {
  readonly driver: BulkDriver<R, K>;
  readonly ledger: BulkLedger<K>;
  readonly flow: Concurrency;
  readonly activityIds: string[];
  /** Chunks formed by splitting a batch the server rejected as a whole, sent as they are. */
  readonly halves: Pending<R, K>[][];
  readonly inFlightChunks: number;
  /** Records waiting to be re-sent (or, never sent, to be reported at the end). */
  readonly retryQueue: RetryQueue<Pending<R, K>>;
  readonly stopped: boolean;
  /** Why the run stopped itself (the records not sent are reported with its message). */
  stop: BulkStop | undefined;
  /** A request of this run received an HTTP answer (any status). */
  answered: boolean;
  recordResends: number;
  /** The record's per-record retries (`maxRecordRetries`) are not spent. */
  canRetry(pending: Pending<R, K>): boolean;
  /**
   * Queues a re-send after the record's backoff, or `delayMs`; once the run has stopped, only
   * queues it for the final sweep.
   */
  requeue(pending: Pending<R, K>, delayMs?: number): void;
  readonly settings: { readonly maxRecordRetries: number; readonly retryDelayMs: number };
  finalize(pending: Pending<R, K>): void;
  /**
   * The record went in a request that may still be applied after its answer was given up on
   * (a timeout, a connection lost after sending, an abort in flight, a gateway's 502/504; a
   * failure that may have been applied is taken as one, an unreadable answer too): a later
   * record with its key is not sent in this run (see the engine's `unsettledKeys`).
   */
  markUnsettled(pending: Pending<R, K>): void;
  /** Halves the chunk size for the rest of the run (after a 413 or a timeout). */
  shrinkChunks(): void;
}

function settleChunk<R, K>(
  run: RunState<R, K>,
  chunk: Pending<R, K>[],
  result: BatchResult<unknown>,
  mayHaveBeenApplied: boolean,
): void {
  // An earlier attempt of this request timed out or lost its connection: VBA may apply it
  // still, after this answer (the answer itself says nothing of it).
  if (mayHaveBeenApplied) for (const pending of chunk) run.markUnsettled(pending);
  if (result.activityId) run.activityIds.push(result.activityId);
  if (result.items.some((item) => item.status === 429)) {
    run.driver.onRecordsRateLimited?.();
    run.flow.backOff(run.inFlightChunks);
  }
  // Items come in request order (item.index === position); a driver that says otherwise is
  // looked up by index.
  const items = result.items;
  let byIndex: Map<number, (typeof items)[number]> | undefined;
  const itemAt = (position: number) => {
    const inOrder = items[position];
    if (inOrder?.index === position) return inOrder;
    if (byIndex === undefined) {
      byIndex = new Map();
      for (const item of items) if (!byIndex.has(item.index)) byIndex.set(item.index, item);
    }
    return byIndex.get(position);
  };
  const activityId = result.activityId;
  for (let position = 0; position < chunk.length; position++) {
    const pending = chunk[position] as Pending<R, K>;
    if (activityId !== undefined) run.ledger.answeredBy(pending.index, activityId);
    const item = itemAt(position);
    if (item !== undefined && (item.outcome === "created" || item.outcome === "updated")) {
      run.ledger.succeed(pending.index, item.outcome, item.status, clip(item.message));
      run.finalize(pending);
      continue;
    }
    const status = item?.status ?? 0;
    const notReported = item === undefined || status === 0;
    const message =
      item?.message === CONFLICTING_MESSAGE
        ? CONFLICTING_MESSAGE
        : notReported
          ? "the server did not report on this record"
          : clip(item.message || `HTTP ${status}`);
    // A record the server received but did not report on may have been applied.
    if (notReported || mayHaveBeenApplied) run.ledger.markMayHaveBeenApplied(pending.index);
    if (shouldRetryRecord(status) && run.canRetry(pending)) {
      run.ledger.note(pending.index, status, message);
      run.requeue(pending);
      continue;
    }
    run.ledger.fail(pending.index, status, message);
    run.finalize(pending);
  }
}

function failChunk<R, K>(
  run: RunState<R, K>,
  chunk: Pending<R, K>[],
  failure: RequestFailure,
  elapsedMs = 0,
): void {
  if (failure.activityId) run.activityIds.push(failure.activityId);
  // Before anything else (the split below returns): an attempt given up on without its answer,
  // or one a gateway gave up on (502, 504), may still be applied after what is sent next.
  if (failure.mayHaveBeenApplied || gatewayGaveUp(failure.status)) {
    for (const pending of chunk) run.markUnsettled(pending);
  }
  if (failure.timedOut || failure.status === 429) run.flow.backOff(run.inFlightChunks);
  if (failure.timedOut || failure.status === 413) run.shrinkChunks();
  if (BISECT_STATUSES.has(failure.status) && chunk.length > 1 && !run.stopped) {
    // One record may have made the server refuse the whole batch: split it to find out,
    // so the others go through. The halves do not count as retries.
    const middle = Math.ceil(chunk.length / 2);
    for (const pending of chunk) {
      // An earlier attempt of this request may land still (the halves' answers cannot say).
      if (failure.mayHaveBeenApplied) run.ledger.markMayHaveBeenApplied(pending.index);
      pending.bisects++;
      run.ledger.note(pending.index, failure.status, clip(failure.message));
    }
    run.halves.push(chunk.slice(0, middle), chunk.slice(middle));
    run.recordResends += chunk.length;
    return;
  }
  // Never left the machine (status 0, no attempt may have been applied): its records are taken
  // back as not attempted. When it was retried by the client already and the server cannot be
  // reached (`unreachable`), the run stops before its first answer; after it, the records are
  // re-sent with growing delays (a restart, a blip), and the run stops when those are spent.
  const neverSent = failure.status === 0 && !failure.mayHaveBeenApplied;
  const unsent = neverSent && failure.retryable && !failure.fatal && !failure.aborted;
  const stopsNow = unsent && failure.unreachable === true && !run.answered;
  if ((failure.fatal || stopsNow) && run.stop === undefined) stopRun(run, failure);
  for (const pending of chunk) {
    if (failure.activityId) run.ledger.answeredBy(pending.index, failure.activityId);
    if (neverSent && (failure.aborted || failure.fatal || unsent)) {
      run.ledger.unattempt(pending.index);
      if (unsent && !stopsNow && run.canRetry(pending) && resendUnsent(run, pending, elapsedMs)) {
        run.ledger.note(pending.index, 0, clip(failure.message));
        continue;
      }
      if (!run.stopped) stopRun(run, failure);
      // As if never sent: the final sweep reports it.
      run.retryQueue.push(pending);
      continue;
    }
    if (failure.mayHaveBeenApplied || gatewayGaveUp(failure.status)) {
      run.ledger.markMayHaveBeenApplied(pending.index);
    }
    if (failure.aborted) {
      run.ledger.fail(pending.index, failure.status, "the request was aborted while in flight");
    } else if (failure.retryable && !pending.requeuedWhole && run.canRetry(pending)) {
      pending.requeuedWhole = true;
      run.ledger.note(pending.index, failure.status, clip(failure.message));
      run.requeue(pending);
      continue;
    } else {
      // The records of the request refused with 401/403 carry the stop's reason too.
      const refused = failure.fatal && isFatalStatus(failure.status) ? "refused" : undefined;
      run.ledger.fail(pending.index, failure.status, clip(failure.message), false, refused);
    }
    run.finalize(pending);
  }
}

/**
 * Queues the re-send of a record whose request never left the machine (see
 * `UNSENT_RETRY_FACTOR`); false when the run stopped or those re-sends are spent.
 */
function resendUnsent<R, K>(run: RunState<R, K>, pending: Pending<R, K>, elapsedMs: number) {
  const { maxRecordRetries, retryDelayMs } = run.settings;
  if (run.stopped || pending.unsent >= Math.max(1, maxRecordRetries)) return false;
  const wait = Math.min(
    MAX_RECORD_RETRY_DELAY_MS,
    UNSENT_RETRY_FACTOR * retryDelayMs * 2 ** pending.unsent++,
  );
  run.requeue(pending, Math.max(0, wait - elapsedMs));
  return true;
}

/** Stops the run for `failure`; the records not sent are reported with the stop's message. */
function stopRun<R, K>(run: RunState<R, K>, failure: RequestFailure): void {
  const unreachable = failure.unreachable === true;
  const after = failure.status ? `HTTP ${failure.status}` : "an error";
  run.stop = {
    reason: unreachable ? "unreachable" : isFatalStatus(failure.status) ? "refused" : "error",
    message: `not sent: the run stopped${unreachable ? ", the server could not be reached" : ` after ${after}`} (${clip(failure.message)})`,
  };
}

/** Why a run stopped itself, if it did (a caller's abort is not a stop of its own). */
export function stopOf(
  stop: BulkStop | undefined,
  aborted: boolean | undefined,
  inputError: unknown,
  callbackError: unknown,
): BulkStop | undefined {
  if (stop || aborted) return stop;
  const what =
    inputError !== undefined
      ? "reading the input"
      : callbackError !== undefined
        ? "the onRecord callback"
        : undefined;
  return what && { reason: "error", message: `not sent: ${what} failed` };
}
