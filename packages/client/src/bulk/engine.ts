/**
 * The bulk engine: reads records lazily, validates them, groups them into chunks, sends the
 * chunks with bounded concurrency through a {@link BulkDriver}, re-sends records whose
 * per-record status is retryable, and accounts for every record exactly once.
 *
 * The engine knows nothing about HTTP or entities; `upsertAll` (index.ts) wires it to a
 * client. That keeps it testable against an in-memory fake as well as the reference server.
 */
import type { BatchResult, BulkItem, BulkProgress, BulkReport } from "../types.js";
import { ChunkBuilder, type ChunkLimits, normalizeLimits, utf8Length } from "./chunker.js";
import { BulkLedger, type RunStats } from "./ledger.js";
import { DEFAULT_PROGRESS_INTERVAL_MS, ProgressThrottle } from "./progress.js";
import { RetryQueue } from "./retry-queue.js";
import { type BulkInput, openSource, type RecordSource } from "./source.js";

/** How a whole-request failure is to be handled, as the driver classifies it. */
export interface RequestFailure {
  /** HTTP status of the final answer, or 0 when none was received. */
  status: number;
  /** Safe message (no record contents, no credentials). */
  message: string;
  /** Worth sending the records again (429, 5xx, connection problems, timeouts). */
  retryable: boolean;
  /** The request was sent and the server may have applied it (reset or timeout after sending). */
  ambiguous: boolean;
  /** Every further request would fail the same way (401, 403): stop the run. */
  fatal: boolean;
  /** The run's own abort signal ended the request. */
  aborted: boolean;
  /** VBA's activity id, when the failed answer carried one. */
  activityId?: string | undefined;
}

/** Counters a driver updates as requests happen (it sees the client's own retries). */
export interface DriverStats {
  /** HTTP requests made, including the client's own retries. */
  requests: number;
  /** Whole-request retries made by the client. */
  requestRetries: number;
  /** HTTP 429 answers received. */
  rateLimited: number;
}

/** One batch's per-record results, plus whether an earlier attempt of the same call was ambiguous. */
export type SendResult = BatchResult<unknown> & {
  /**
   * True when the client retried the request after a connection reset or timeout: records the
   * final answer reports as failed may still have been applied by that earlier attempt.
   */
  earlierAttemptMayHaveApplied?: boolean;
};

/** What the engine needs from the outside world for one entity. */
export interface BulkDriver<R, K> {
  /** The record's key field values, for the report (must not throw on malformed records). */
  keyOf(record: R): K;
  /** `undefined` when the record is valid, else a message naming the field and the reason. */
  validate(record: R): string | undefined;
  /**
   * Sends one batch. Resolves with per-record results indexed by position in `records`, or
   * rejects with an error that `classify` understands. Must count requests in `stats` (the
   * engine counts one request per call when the driver does not).
   */
  send(
    records: R[],
    signal: AbortSignal | undefined,
    stats: DriverStats,
    /** The records' JSON array, as the engine serialized it (a driver may send it as is). */
    json?: string,
  ): Promise<SendResult>;
  classify(error: unknown): RequestFailure;
  /** True when `send` maintains `stats.requests` itself. */
  readonly countsRequests?: boolean;
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
  /** Requests in flight at once. Default 4. The client's shared rate limiter still applies. */
  concurrency?: number;
  /**
   * How many times a record may be re-sent after a retryable per-record status (429, 5xx, or
   * not reported by the server), or after a retryable whole-request failure. Default 3.
   */
  maxRecordRetries?: number;
  /**
   * Delay before a record is re-sent: `recordRetryDelayMs × 2^(re-send number − 1)`, capped at
   * 30 s. Default 250 ms. Records that are not ready yet do not hold up other records.
   */
  recordRetryDelayMs?: number;
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
   * {@link BulkCallbackError} carrying the report; later items are not passed to it.
   */
  onRecord?: (item: BulkItem<K>) => void;
  /**
   * `"items"` (default): the report lists every record. `"totals"`: the report keeps only the
   * counts (`items` is empty), so memory does not grow with the input: take the items from
   * `onRecord` instead.
   */
  report?: "items" | "totals";
}

/** Thrown (rejected) when reading the input fails; carries the report of what was read. */
export class BulkInputError<K = Record<string, unknown>> extends Error {
  override name = "BulkInputError";
  constructor(
    message: string,
    /** Outcome of every record read before the input failed; the run was stopped. */
    readonly report: BulkReport<K>,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Rejected when the `onRecord` callback throws; carries the report of the run it stopped. */
export class BulkCallbackError<K = Record<string, unknown>> extends Error {
  override name = "BulkCallbackError";
  constructor(
    message: string,
    readonly report: BulkReport<K>,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Default {@link BulkOptions.concurrency}. */
export const DEFAULT_CONCURRENCY = 4;
/** Default {@link BulkOptions.maxRecordRetries}. */
export const DEFAULT_MAX_RECORD_RETRIES = 3;
/** Default {@link BulkOptions.recordRetryDelayMs}. */
export const DEFAULT_RECORD_RETRY_DELAY_MS = 250;
const MAX_RECORD_RETRY_DELAY_MS = 30_000;
const MAX_SERVER_MESSAGE = 500;

interface Pending<R> {
  index: number;
  record: R;
  bytes: number;
  /** The record serialized once, as it appears in the request body. */
  json: string;
  keyId: string;
  /** Already re-queued once after a whole-request failure. */
  requeuedWhole: boolean;
}

function isRetryableItemStatus(status: number): boolean {
  return status === 0 || status === 408 || status === 429 || status >= 500;
}

function clip(message: string): string {
  return message.length > MAX_SERVER_MESSAGE ? `${message.slice(0, MAX_SERVER_MESSAGE)}…` : message;
}

function keyIdOf(key: unknown): string {
  if (key !== null && typeof key === "object") {
    const values = Object.values(key);
    if (values.length === 1) {
      const value = values[0];
      // Cheap and still unambiguous: no JSON text starts with "#" or "$".
      if (typeof value === "number" && Number.isSafeInteger(value)) return `#${value}`;
      if (typeof value === "string") return `$${value}`;
    }
    return JSON.stringify(values);
  }
  return JSON.stringify(key);
}

const SKIPPED: unique symbol = Symbol("skipped");

function positiveInt(name: string, value: number, min: number): number {
  if (!Number.isInteger(value) || value < min)
    throw new RangeError(`${name} must be an integer >= ${min}`);
  return value;
}

/** Runs one bulk upsert. See `upsertAll` for the semantics. */
export async function runBulk<R, K>(
  driver: BulkDriver<R, K>,
  input: BulkInput<R>,
  options: BulkOptions<K> = {},
): Promise<BulkReport<K>> {
  return new BulkRun(driver, input, options).run();
}

class BulkRun<R, K> {
  private readonly limits: ChunkLimits;
  private readonly concurrency: number;
  private readonly maxRecordRetries: number;
  private readonly retryDelayMs: number;
  private readonly signal: AbortSignal | undefined;
  private readonly capacity: number;
  private readonly source: RecordSource<R>;
  private readonly ledger: BulkLedger<K>;
  private readonly retryQueue = new RetryQueue<Pending<R>>();
  private readonly progress: ProgressThrottle;
  private readonly started = Date.now();

  private readonly stats: DriverStats = { requests: 0, requestRetries: 0, rateLimited: 0 };
  private recordResends = 0;
  private readonly activityIds: string[] = [];

  /** Keys of records pulled and not yet final (in a chunk, in flight or queued for re-send). */
  private readonly unfinishedKeys = new Set<string>();
  /** A record pulled but not yet placed in a chunk (byte limit reached or key busy). */
  private carry: Pending<R> | undefined;
  private nextIndex = 0;
  private inputDone = false;
  private inputError: unknown;
  private stopReason: string | undefined;
  private inFlightChunks = 0;
  private inFlightRecords = 0;
  private readonly inFlight = new Set<Promise<void>>();
  private waiters: (() => void)[] = [];

  constructor(
    private readonly driver: BulkDriver<R, K>,
    input: BulkInput<R>,
    options: BulkOptions<K>,
  ) {
    this.ledger = new BulkLedger<K>({ onRecord: options.onRecord, report: options.report });
    this.limits = normalizeLimits(options);
    this.concurrency = positiveInt("concurrency", options.concurrency ?? DEFAULT_CONCURRENCY, 1);
    this.maxRecordRetries = positiveInt(
      "maxRecordRetries",
      options.maxRecordRetries ?? DEFAULT_MAX_RECORD_RETRIES,
      0,
    );
    this.retryDelayMs = Math.max(0, options.recordRetryDelayMs ?? DEFAULT_RECORD_RETRY_DELAY_MS);
    this.signal = options.signal;
    this.capacity = this.limits.chunkSize * this.concurrency;
    this.source = openSource(input);
    this.progress = new ProgressThrottle(
      options.onProgress,
      Math.max(0, options.progressIntervalMs ?? DEFAULT_PROGRESS_INTERVAL_MS),
      () => this.snapshot(),
    );
  }

  private snapshot(): BulkProgress {
    return {
      done: this.ledger.done,
      failed: this.ledger.failed,
      inFlight: this.inFlightRecords,
      requests: this.stats.requests,
      retries: this.retriesSoFar(),
      elapsedMs: Date.now() - this.started,
      total: this.source.knownLength ?? (this.inputDone ? this.ledger.registered : undefined),
    };
  }

  private retriesSoFar(): number {
    return this.stats.requestRetries + this.recordResends;
  }

  private get stopped(): boolean {
    return (
      this.signal?.aborted === true ||
      this.stopReason !== undefined ||
      this.inputError !== undefined ||
      this.ledger.callbackError !== undefined
    );
  }

  private wake = (): void => {
    const waiters = this.waiters;
    this.waiters = [];
    for (const resolve of waiters) resolve();
  };

  /** Waits for a request to finish, the abort signal, or `until` (a timestamp). */
  private wait(until?: number): Promise<void> {
    return new Promise((resolve) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      this.waiters.push(() => {
        if (timer !== undefined) clearTimeout(timer);
        resolve();
      });
      if (until !== undefined) timer = setTimeout(this.wake, Math.max(0, until - Date.now()));
    });
  }

  async run(): Promise<BulkReport<K>> {
    this.signal?.addEventListener("abort", this.wake);
    try {
      await this.loop();
      await Promise.allSettled([...this.inFlight]);
      await this.finish();
    } finally {
      this.signal?.removeEventListener("abort", this.wake);
    }
    this.progress.flush();
    const report = this.ledger.build(this.runStats());
    if (this.ledger.callbackError !== undefined) {
      throw new BulkCallbackError(
        "upsertAll: the onRecord callback threw; the run was stopped (see report)",
        report,
        { cause: this.ledger.callbackError },
      );
    }
    if (this.inputError !== undefined) {
      throw new BulkInputError(
        "upsertAll: reading the input failed; the run was stopped (see report)",
        report,
        { cause: this.inputError },
      );
    }
    return report;
  }

  private runStats(): RunStats {
    return {
      requests: this.stats.requests,
      retries: this.retriesSoFar(),
      rateLimited: this.stats.rateLimited,
      activityIds: this.activityIds,
      elapsedMs: Date.now() - this.started,
    };
  }

  private async loop(): Promise<void> {
    for (;;) {
      if (this.stopped) return;
      if (this.inFlightChunks >= this.concurrency) {
        await this.wait();
        continue;
      }
      const chunk = await this.buildChunk();
      if (this.stopped) {
        // Not sent: back to the queue so the final sweep accounts for them.
        for (const pending of chunk) this.retryQueue.push(pending);
        return;
      }
      if (chunk.length > 0) {
        this.launch(chunk);
        continue;
      }
      const idle = this.inFlightChunks === 0 && this.retryQueue.size === 0;
      if (this.inputDone && this.carry === undefined && idle) return;
      await this.wait(this.retryQueue.nextReadyAt());
    }
  }

  /** Pulls the next record, registering it; invalid records are failed right here. */
  private async pull(): Promise<Pending<R> | undefined> {
    while (!this.inputDone && !this.stopped) {
      let next: IteratorResult<R, unknown>;
      try {
        next = await this.nextWithAbort();
      } catch (error) {
        this.inputError = error;
        return undefined;
      }
      const pending = this.admit(next);
      if (pending !== SKIPPED) return pending;
    }
    return undefined;
  }

  /** {@link pull} for arrays and sync iterables: no promise per record. */
  private pullSync(nextSync: () => IteratorResult<R, unknown>): Pending<R> | undefined {
    while (!this.inputDone && !this.stopped) {
      let next: IteratorResult<R, unknown>;
      try {
        next = nextSync();
      } catch (error) {
        this.inputError = error;
        return undefined;
      }
      const pending = this.admit(next);
      if (pending !== SKIPPED) return pending;
    }
    return undefined;
  }

  /** Registers a record read from the input; SKIPPED when it was invalid (and failed here). */
  private admit(next: IteratorResult<R, unknown>): Pending<R> | undefined | typeof SKIPPED {
    if (next.done) {
      if (!this.signal?.aborted) this.inputDone = true;
      return undefined;
    }
    const record = next.value;
    const index = this.nextIndex++;
    const key = this.driver.keyOf(record);
    this.ledger.register(index, key);
    if (this.signal?.aborted) {
      this.ledger.skip(index, "not sent: the run was aborted");
      return undefined;
    }
    const invalid = this.driver.validate(record);
    if (invalid !== undefined) {
      this.ledger.fail(index, 0, `invalid record, not sent: ${invalid}`);
      this.progress.tick(Date.now());
      return SKIPPED;
    }
    // In an array body, what JSON.stringify leaves out (undefined, functions) becomes null.
    const json = JSON.stringify(record) ?? "null";
    return {
      index,
      record,
      bytes: utf8Length(json),
      json,
      keyId: keyIdOf(key),
      requeuedWhole: false,
    };
  }

  private nextWithAbort(): Promise<IteratorResult<R, unknown>> {
    const next = this.source.next();
    const signal = this.signal;
    // An array answers at once; only a stream may keep us waiting past an abort.
    if (signal === undefined || this.source.knownLength !== undefined) return next;
    return new Promise((resolve, reject) => {
      const onAbort = () => resolve({ done: true, value: undefined });
      signal.addEventListener("abort", onAbort, { once: true });
      next.then(
        (value) => {
          signal.removeEventListener("abort", onAbort);
          resolve(value);
        },
        (error) => {
          signal.removeEventListener("abort", onAbort);
          reject(error);
        },
      );
    });
  }

  private unfinishedRecords(builderSize: number): number {
    return this.inFlightRecords + this.retryQueue.size + builderSize;
  }

  /**
   * Builds the next chunk: ready re-sends first, then fresh records while the number of
   * records pulled and not finished stays within chunkSize × concurrency. A record whose key
   * is still unfinished waits (as `carry`) so records with the same key apply in input order.
   */
  private async buildChunk(): Promise<Pending<R>[]> {
    const builder = new ChunkBuilder<Pending<R>>(this.limits);
    this.retryQueue.take(Date.now(), (pending) => {
      if (!builder.fits(pending.bytes)) return false;
      builder.add(pending, pending.bytes);
      return true;
    });
    while (!builder.full && !this.stopped) {
      if (this.carry === undefined && this.unfinishedRecords(builder.size) >= this.capacity) break;
      const nextSync = this.source.nextSync;
      const pending =
        this.carry ?? (nextSync !== undefined ? this.pullSync(nextSync) : await this.pull());
      if (pending === undefined) break;
      this.carry = pending;
      if (this.unfinishedKeys.has(pending.keyId) || !builder.fits(pending.bytes)) break;
      this.carry = undefined;
      this.unfinishedKeys.add(pending.keyId);
      builder.add(pending, pending.bytes);
    }
    return builder.items;
  }

  private launch(chunk: Pending<R>[]): void {
    this.inFlightChunks++;
    this.inFlightRecords += chunk.length;
    for (const pending of chunk) this.ledger.attempt(pending.index);
    if (!this.driver.countsRequests) this.stats.requests++;
    const records: R[] = new Array(chunk.length);
    const parts: string[] = new Array(chunk.length);
    for (let i = 0; i < chunk.length; i++) {
      const pending = chunk[i] as Pending<R>;
      records[i] = pending.record;
      parts[i] = pending.json;
    }
    const task = this.driver
      .send(records, this.signal, this.stats, `[${parts.join(",")}]`)
      .then(
        (result) => this.settle(chunk, result),
        (error: unknown) => this.fail(chunk, this.driver.classify(error)),
      )
      .finally(() => {
        this.inFlightChunks--;
        this.inFlightRecords -= chunk.length;
        this.inFlight.delete(task);
        this.progress.tick(Date.now());
        this.wake();
      });
    this.inFlight.add(task);
    this.progress.tick(Date.now());
  }

  private finalize(pending: Pending<R>): void {
    this.unfinishedKeys.delete(pending.keyId);
  }

  private requeue(pending: Pending<R>): void {
    const resends = this.ledger.attemptsOf(pending.index);
    const delay = Math.min(MAX_RECORD_RETRY_DELAY_MS, this.retryDelayMs * 2 ** (resends - 1));
    this.recordResends++;
    this.retryQueue.push(pending, delay > 0 ? Date.now() + delay : 0);
  }

  private canRetry(pending: Pending<R>): boolean {
    return this.ledger.attemptsOf(pending.index) <= this.maxRecordRetries && !this.stopped;
  }

  private settle(chunk: Pending<R>[], result: SendResult): void {
    if (result.activityId) this.activityIds.push(result.activityId);
    const byIndex = new Map<number, BatchResult<unknown>["items"][number]>();
    for (const item of result.items) if (!byIndex.has(item.index)) byIndex.set(item.index, item);
    chunk.forEach((pending, position) => {
      const item = byIndex.get(position);
      if (item !== undefined && (item.outcome === "created" || item.outcome === "updated")) {
        this.ledger.succeed(pending.index, item.outcome, item.status, clip(item.message));
        this.finalize(pending);
        return;
      }
      const status = item?.status ?? 0;
      const notReported = item === undefined || status === 0;
      const message = notReported
        ? "the server did not report on this record"
        : clip(item.message || `HTTP ${status}`);
      // A record the server received but did not report on may have been applied.
      if (notReported || result.earlierAttemptMayHaveApplied) {
        this.ledger.markAmbiguous(pending.index);
      }
      if (isRetryableItemStatus(status) && this.canRetry(pending)) {
        this.ledger.note(pending.index, status, message);
        this.requeue(pending);
        return;
      }
      this.ledger.fail(pending.index, status, message);
      this.finalize(pending);
    });
  }

  private fail(chunk: Pending<R>[], failure: RequestFailure): void {
    if (failure.activityId) this.activityIds.push(failure.activityId);
    if (failure.fatal && this.stopReason === undefined) {
      this.stopReason = `not sent: the run stopped after HTTP ${failure.status} (${clip(failure.message)})`;
    }
    for (const pending of chunk) {
      if (failure.aborted && !failure.ambiguous && this.signal?.aborted) {
        // Aborted before the request left: as if never sent; the final sweep reports it.
        this.ledger.unattempt(pending.index);
        this.retryQueue.push(pending);
        continue;
      }
      if (failure.ambiguous) this.ledger.markAmbiguous(pending.index);
      if (failure.aborted) {
        this.ledger.fail(pending.index, failure.status, "the request was aborted while in flight");
      } else if (failure.retryable && !pending.requeuedWhole && this.canRetry(pending)) {
        pending.requeuedWhole = true;
        this.ledger.note(pending.index, failure.status, clip(failure.message));
        this.requeue(pending);
        continue;
      } else {
        this.ledger.fail(pending.index, failure.status, clip(failure.message));
      }
      this.finalize(pending);
    }
  }

  /** Accounts for everything not sent when the run ends early, and closes the input. */
  private async finish(): Promise<void> {
    const reason = this.signal?.aborted
      ? "not sent: the run was aborted"
      : (this.stopReason ??
        (this.inputError !== undefined
          ? "not sent: reading the input failed"
          : this.ledger.callbackError !== undefined
            ? "not sent: the onRecord callback failed"
            : undefined));
    const leftovers = [...this.retryQueue.drain(), ...(this.carry ? [this.carry] : [])];
    this.carry = undefined;
    leftovers.sort((a, b) => a.index - b.index);
    for (const pending of leftovers) {
      this.ledger.skip(pending.index, reason ?? "not sent");
      this.finalize(pending);
    }
    if (reason === undefined || this.inputDone) return;
    if (this.source.knownLength !== undefined && this.inputError === undefined) {
      // An array: every record is known, so every unsent one is reported.
      for (;;) {
        const next = await this.source.next();
        if (next.done) break;
        const index = this.nextIndex++;
        this.ledger.register(index, this.driver.keyOf(next.value));
        this.ledger.skip(index, reason);
      }
    }
    await this.source.close();
  }
}
