/**
 * The bulk engine: reads records lazily, prepares them, groups them into chunks, sends the
 * chunks with bounded concurrency through a {@link BulkDriver}, re-sends records whose
 * per-record status is retryable, and accounts for every record exactly once.
 *
 * The engine knows nothing about HTTP or entities; `upsertAll` (upsert-all.ts) wires it to a
 * client. That keeps it testable against an in-memory fake as well as the reference server.
 *
 * Over 400 lines on purpose: `BulkRun` is one state machine (what is read, in flight, queued
 * for a re-send, final) whose invariants hold only across all of its methods; the parts that
 * stand alone live beside it (intake.ts, ledger.ts, concurrency.ts, chunker.ts, retry-queue.ts).
 */

import { linkSignal, type SignalLink } from "../base/abort-link.ts";
import { BulkCallbackError, BulkInputError, ConfigurationError } from "../base/errors.ts";
import { clip } from "../base/redact.ts";
import { shouldRetryRecord } from "../base/retry.ts";
import type { BatchResult, BulkProgress, BulkReport } from "../base/types.ts";
import { ChunkBuilder, type ChunkLimits, normalizeLimits, utf8Length } from "./chunker.ts";
import { Concurrency } from "./concurrency.ts";
import { Intake, LATER } from "./intake.ts";
import { BulkLedger, type RunStats } from "./ledger.ts";
import {
  type BulkDriver,
  type BulkOptions,
  DEFAULT_LINGER_MS,
  DEFAULT_MAX_RECORD_RETRIES,
  DEFAULT_RECORD_RETRY_DELAY_MS,
  type DriverStats,
  MAX_RECORD_RETRY_DELAY_MS,
  type RequestFailure,
} from "./options.ts";
import { DEFAULT_PROGRESS_INTERVAL_MS, ProgressThrottle } from "./progress.ts";
import { RetryQueue } from "./retry-queue.ts";
import type { BulkInput } from "./source.ts";

/** How long a stopped run waits for a stalled input before it reports without it. */
const STOP_GRACE_MS = 100;

interface Pending<R, K> {
  index: number;
  record: R;
  key: K;
  bytes: number;
  /** The record serialized once, as it appears in the request body. */
  json: string;
  keyId: string;
  /** Already re-queued once after a whole-request failure. */
  requeuedWhole: boolean;
  /** Sends that were halves of a batch rejected as a whole (they do not count as retries). */
  bisects: number;
}

/** Whole-batch statuses that may be caused by one record: the batch is split to find it. */
const BISECT_STATUSES = new Set([400, 413]);

const SKIPPED: unique symbol = Symbol("skipped");

function positiveInt(name: string, value: number, min: number): number {
  if (!Number.isInteger(value) || value < min) {
    throw new ConfigurationError(`upsertAll: ${name} must be an integer >= ${min}`);
  }
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
  private readonly flow: Concurrency;
  /** Chunks formed by splitting a batch the server rejected as a whole, sent as they are. */
  private readonly halves: Pending<R, K>[][] = [];
  private readonly maxRecordRetries: number;
  private readonly retryDelayMs: number;
  private readonly lingerMs: number;
  private readonly signal: AbortSignal | undefined;
  private readonly link: SignalLink;
  private readonly intake: Intake<R>;
  private readonly ledger: BulkLedger<K>;
  private readonly retryQueue = new RetryQueue<Pending<R, K>>();
  private readonly progress: ProgressThrottle;
  private readonly started = performance.now();

  private readonly stats: DriverStats = { requests: 0, requestRetries: 0, rateLimited: 0 };
  private recordResends = 0;
  private readonly activityIds: string[] = [];

  /** Keys of records pulled and not yet final (in a chunk, in flight or queued for re-send). */
  private readonly unfinishedKeys = new Set<string>();
  /** A record pulled but not yet placed in a chunk (byte limit reached or key busy). */
  private carry: Pending<R, K> | undefined;
  private nextIndex = 0;
  private inputDone = false;
  private inputError: unknown;
  private stopReason: string | undefined;
  private inFlightChunks = 0;
  private inFlightRecords = 0;
  private readonly inFlight = new Set<Promise<void>>();
  private waiters: (() => void)[] = [];
  /** The last read of an async input returned at its deadline, without a record. */
  private readTimedOut = false;

  constructor(
    private readonly driver: BulkDriver<R, K>,
    input: BulkInput<R>,
    options: BulkOptions<K>,
  ) {
    this.ledger = new BulkLedger<K>({ onRecord: options.onRecord, report: options.report });
    this.limits = normalizeLimits(options);
    this.flow = new Concurrency(
      options.concurrency === undefined
        ? undefined
        : positiveInt("concurrency", options.concurrency, 1),
      () => driver.rate?.(),
      () => driver.burst?.(),
    );
    this.maxRecordRetries = positiveInt(
      "maxRecordRetries",
      options.maxRecordRetries ?? DEFAULT_MAX_RECORD_RETRIES,
      0,
    );
    this.retryDelayMs = Math.max(0, options.recordRetryDelayMs ?? DEFAULT_RECORD_RETRY_DELAY_MS);
    this.lingerMs = Math.max(0, options.lingerMs ?? DEFAULT_LINGER_MS);
    // The run follows the caller's signal through one link (one listener, removed at the end).
    this.link = linkSignal(options.signal);
    this.signal = this.link.signal;
    try {
      this.intake = new Intake(input, this.signal);
    } catch (error) {
      // An input that cannot be read (not iterable, a throwing iterator): nothing runs, so the
      // link is let go here.
      this.link.release();
      throw error;
    }
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
      elapsedMs: performance.now() - this.started,
      total: this.intake.knownLength ?? (this.inputDone ? this.ledger.registered : undefined),
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
      if (until !== undefined)
        timer = setTimeout(this.wake, Math.max(0, until - performance.now()));
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
      this.link.release();
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
      elapsedMs: performance.now() - this.started,
    };
  }

  private async loop(): Promise<void> {
    for (;;) {
      if (this.stopped) return;
      if (this.inFlightChunks >= this.flow.limit) {
        await this.wait();
        continue;
      }
      const chunk = this.halves.shift() ?? (await this.buildChunk());
      if (this.stopped) {
        // Not sent: back to the queue so the final sweep accounts for them.
        for (const pending of chunk) this.retryQueue.push(pending);
        return;
      }
      if (chunk.length > 0) {
        this.launch(chunk);
        continue;
      }
      // Halves of a refused batch may have arrived while the chunk was being built.
      if (this.halves.length > 0) continue;
      const idle = this.inFlightChunks === 0 && this.retryQueue.size === 0;
      if (this.inputDone && this.carry === undefined && idle) return;
      // A read of a slow input that gave up at its deadline has waited already.
      if (!this.readTimedOut) await this.wait(this.retryQueue.nextReadyAt());
    }
  }

  /**
   * The next record, registered; invalid records are failed right here. `undefined` when the
   * input is exhausted, the run stopped, or (async inputs) `deadline` passed first.
   */
  private async pull(deadline: number | undefined): Promise<Pending<R, K> | undefined> {
    const nextSync = this.intake.nextSync;
    while (!this.inputDone && !this.stopped) {
      let next: IteratorResult<R, unknown> | typeof LATER;
      try {
        next = nextSync !== undefined ? nextSync() : await this.intake.next(deadline);
      } catch (error) {
        this.inputError = error ?? new Error("the input threw a nullish value");
        return undefined;
      }
      this.readTimedOut = next === LATER;
      if (next === LATER) return undefined;
      const pending = this.admit(next);
      if (pending !== SKIPPED) return pending;
    }
    return undefined;
  }

  /** Registers a record read from the input; SKIPPED when it cannot be sent (failed here). */
  private admit(next: IteratorResult<R, unknown>): Pending<R, K> | undefined | typeof SKIPPED {
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
    const prepared = this.driver.prepare(record);
    if (!prepared.ok) {
      this.ledger.fail(index, 0, `invalid record, not sent: ${prepared.message}`);
      this.progress.tick(performance.now());
      return SKIPPED;
    }
    return {
      index,
      record,
      key,
      bytes: utf8Length(prepared.json),
      json: prepared.json,
      keyId: this.driver.keyIdOf(key),
      requeuedWhole: false,
      bisects: 0,
    };
  }

  private unfinishedRecords(builderSize: number): number {
    return this.inFlightRecords + this.retryQueue.size + builderSize;
  }

  /** When a read of a slow input should give up waiting (see `lingerMs`). */
  private readDeadline(builderSize: number, chunkStarted: number): number | undefined {
    let deadline = builderSize > 0 ? chunkStarted + this.lingerMs : undefined;
    const ready = this.retryQueue.nextReadyAt();
    if (ready !== undefined && (deadline === undefined || ready < deadline)) deadline = ready;
    // While requests are in flight, look up now and then for records they hand back.
    if (this.inFlightChunks > 0) {
      const soon = performance.now() + Math.max(this.lingerMs, 10);
      if (deadline === undefined || soon < deadline) deadline = soon;
    }
    return deadline;
  }

  /**
   * Builds the next chunk: ready re-sends first, then fresh records while the number of
   * records pulled and not finished stays within chunkSize × concurrency. A record whose key
   * is still unfinished waits (as `carry`) so records with the same key apply in input order.
   */
  private async buildChunk(): Promise<Pending<R, K>[]> {
    const builder = new ChunkBuilder<Pending<R, K>>(this.limits);
    const chunkStarted = performance.now();
    this.readTimedOut = false;
    this.retryQueue.take(chunkStarted, (pending) => {
      if (!builder.fits(pending.bytes)) return false;
      builder.add(pending, pending.bytes);
      return true;
    });
    while (!builder.full && !this.stopped) {
      const capacity = this.limits.chunkSize * this.flow.limit;
      if (this.carry === undefined && this.unfinishedRecords(builder.size) >= capacity) break;
      const pending =
        this.carry ?? (await this.pull(this.readDeadline(builder.size, chunkStarted)));
      if (pending === undefined) break;
      this.carry = pending;
      if (this.unfinishedKeys.has(pending.keyId) || !builder.fits(pending.bytes)) break;
      this.carry = undefined;
      this.unfinishedKeys.add(pending.keyId);
      builder.add(pending, pending.bytes);
    }
    return builder.items;
  }

  private launch(chunk: Pending<R, K>[]): void {
    this.inFlightChunks++;
    this.inFlightRecords += chunk.length;
    const records: R[] = new Array(chunk.length);
    const keys: K[] = new Array(chunk.length);
    const parts: string[] = new Array(chunk.length);
    for (let i = 0; i < chunk.length; i++) {
      const pending = chunk[i] as Pending<R, K>;
      this.ledger.attempt(pending.index);
      records[i] = pending.record;
      keys[i] = pending.key;
      parts[i] = pending.json;
    }
    const started = performance.now();
    const task = this.driver
      .send(records, `[${parts.join(",")}]`, this.signal, this.stats, keys)
      .then(
        (outcome) => {
          if (outcome.ok || outcome.failure.status !== 0)
            this.flow.observe(performance.now() - started);
          if (outcome.ok) this.settle(chunk, outcome.result, outcome.mayHaveBeenApplied);
          else this.fail(chunk, outcome.failure);
        },
        // A driver must not reject; if one does (a bug), its records are still accounted for.
        (error: unknown) =>
          this.fail(chunk, {
            status: 0,
            message: `unexpected ${error instanceof Error ? error.name : typeof error} while sending`,
            retryable: false,
            mayHaveBeenApplied: true,
            fatal: true,
            aborted: false,
          }),
      )
      .finally(() => {
        this.inFlightChunks--;
        this.inFlightRecords -= chunk.length;
        this.inFlight.delete(task);
        this.progress.tick(performance.now());
        this.wake();
      });
    this.inFlight.add(task);
    this.progress.tick(performance.now());
  }

  private finalize(pending: Pending<R, K>): void {
    this.unfinishedKeys.delete(pending.keyId);
  }

  private requeue(pending: Pending<R, K>): void {
    const resends = this.ledger.attemptsOf(pending.index);
    const delay = Math.min(MAX_RECORD_RETRY_DELAY_MS, this.retryDelayMs * 2 ** (resends - 1));
    this.recordResends++;
    this.retryQueue.push(pending, delay > 0 ? performance.now() + delay : 0);
  }

  private canRetry(pending: Pending<R, K>): boolean {
    const retries = this.ledger.attemptsOf(pending.index) - pending.bisects;
    return retries <= this.maxRecordRetries && !this.stopped;
  }

  /** Halves the chunk size for the rest of the run (after a 413 or a timeout). */
  private shrinkChunks(): void {
    this.limits.chunkSize = Math.max(1, Math.floor(this.limits.chunkSize / 2));
  }

  private settle(
    chunk: Pending<R, K>[],
    result: BatchResult<unknown>,
    mayHaveBeenApplied: boolean,
  ) {
    if (result.activityId) this.activityIds.push(result.activityId);
    if (result.items.some((item) => item.status === 429)) {
      this.driver.onRecordsRateLimited?.();
      this.flow.backOff(this.inFlightChunks);
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
    chunk.forEach((pending, position) => {
      if (activityId !== undefined) this.ledger.answeredBy(pending.index, activityId);
      const item = itemAt(position);
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
      if (notReported || mayHaveBeenApplied) this.ledger.markMayHaveBeenApplied(pending.index);
      if (shouldRetryRecord(status) && this.canRetry(pending)) {
        this.ledger.note(pending.index, status, message);
        this.requeue(pending);
        return;
      }
      this.ledger.fail(pending.index, status, message);
      this.finalize(pending);
    });
  }

  private fail(chunk: Pending<R, K>[], failure: RequestFailure): void {
    if (failure.activityId) this.activityIds.push(failure.activityId);
    if (failure.timedOut || failure.status === 429) this.flow.backOff(this.inFlightChunks);
    if (failure.timedOut || failure.status === 413) this.shrinkChunks();
    if (BISECT_STATUSES.has(failure.status) && chunk.length > 1 && !this.stopped) {
      // One record may have made the server refuse the whole batch: split it to find out,
      // so the others go through. The halves do not count as retries.
      const middle = Math.ceil(chunk.length / 2);
      for (const pending of chunk) {
        pending.bisects++;
        this.ledger.note(pending.index, failure.status, clip(failure.message));
      }
      this.halves.push(chunk.slice(0, middle), chunk.slice(middle));
      this.recordResends += chunk.length;
      return;
    }
    if (failure.fatal && this.stopReason === undefined) {
      this.stopReason = `not sent: the run stopped after ${failure.status ? `HTTP ${failure.status}` : "an error"} (${clip(failure.message)})`;
    }
    for (const pending of chunk) {
      if (failure.activityId) this.ledger.answeredBy(pending.index, failure.activityId);
      const neverSent = failure.status === 0 && !failure.mayHaveBeenApplied;
      if (neverSent && (failure.aborted || failure.fatal)) {
        // Never left the machine: as if never sent; the final sweep reports it.
        this.ledger.unattempt(pending.index);
        this.retryQueue.push(pending);
        continue;
      }
      if (failure.mayHaveBeenApplied) this.ledger.markMayHaveBeenApplied(pending.index);
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
    const leftovers = [
      ...this.retryQueue.drain(),
      ...this.halves.splice(0).flat(),
      ...(this.carry ? [this.carry] : []),
    ];
    this.carry = undefined;
    leftovers.sort((a, b) => a.index - b.index);
    for (const pending of leftovers) {
      this.ledger.skip(pending.index, reason ?? "not sent");
      this.finalize(pending);
    }
    if (reason === undefined || this.inputDone) return;
    // A record the input produced while the run was stopping is still reported.
    const late = await this.intake.lateRecord(STOP_GRACE_MS);
    if (late !== undefined && !late.done) this.skipUnsent(late.value, reason);
    if (this.intake.knownLength !== undefined && this.inputError === undefined) {
      // An array: every record is known, so every unsent one is reported.
      for (;;) {
        const next = await this.intake.rest();
        if (next.done) break;
        this.skipUnsent(next.value, reason);
      }
    }
    await this.intake.close(STOP_GRACE_MS);
  }

  private skipUnsent(record: R, reason: string): void {
    const index = this.nextIndex++;
    this.ledger.register(index, this.driver.keyOf(record));
    this.ledger.skip(index, reason);
  }
}
