/**
 * The bulk engine: reads records lazily, prepares them, groups them into chunks, sends the
 * chunks with bounded concurrency through a {@link BulkDriver}, re-sends records whose
 * per-record status is retryable, and accounts for every record exactly once. It knows nothing
 * about HTTP or entities (`upsertAll` wires it to a client), so an in-memory fake can drive it.
 * `BulkRun` is one state machine (what is read, in flight, queued for a re-send, final); the
 * parts that stand alone live beside it: records.ts (a record's way: prepared, sent, answered),
 * intake.ts, ledger.ts, concurrency.ts, chunker.ts, retry-queue.ts, waker.ts.
 */

import { linkSignal, type SignalLink } from "../base/abort-link.ts";
import { BulkCallbackError, BulkInputError } from "../base/errors.ts";
import type { BulkProgress, BulkReport, BulkStop } from "../base/types.ts";
import { ChunkBuilder, type ChunkLimits, normalizeLimits } from "./chunker.ts";
import { Concurrency } from "./concurrency.ts";
import { Intake, LATER } from "./intake.ts";
import { BulkLedger, type RunStats } from "./ledger.ts";
import {
  type BulkDriver,
  type BulkOptions,
  type DriverStats,
  MAX_RECORD_RETRY_DELAY_MS,
  positiveInt,
  progressInterval,
  retrySettings,
  sentBeforeOption,
} from "./options.ts";
import { ProgressThrottle } from "./progress.ts";
import {
  answered,
  type Pending,
  prepare,
  type RunState,
  requestOf,
  sendFailedUnexpectedly,
  stopOf,
} from "./records.ts";
import { RetryQueue } from "./retry-queue.ts";
import type { BulkInput } from "./source.ts";
import { Waker } from "./waker.ts";

/** How long a stopped run waits for a stalled input before it reports without it. */
const STOP_GRACE_MS = 100;
/** The message of a record held back behind an unsettled one with its key (see unsettledKeys). */
export const UNSETTLED_KEY_MESSAGE =
  "not sent: an earlier record with the same key went in a request given up on without its answer (timed out, cut off, or a gateway's 502/504 or a CDN's 520/524), which VBA may still apply after this one; send this record again once that one is checked";

const SKIPPED: unique symbol = Symbol("skipped");

/** Runs one bulk upsert. See `upsertAll` for the semantics. */
export async function runBulk<R, K>(
  driver: BulkDriver<R, K>,
  input: BulkInput<R>,
  options: BulkOptions<K> = {},
): Promise<BulkReport<K>> {
  return new BulkRun(driver, input, options).run();
}

class BulkRun<R, K> implements RunState<R, K> {
  private readonly limits: ChunkLimits;
  readonly flow: Concurrency;
  /** Chunks formed by splitting a batch the server rejected as a whole, sent as they are. */
  readonly halves: Pending<R, K>[][] = [];
  readonly settings: ReturnType<typeof retrySettings>;
  private readonly signal: AbortSignal | undefined;
  private readonly link: SignalLink;
  private readonly intake: Intake<R>;
  readonly ledger: BulkLedger<K>;
  readonly retryQueue = new RetryQueue<Pending<R, K>>();
  private readonly progress: ProgressThrottle;
  private readonly started = performance.now();

  private readonly stats: DriverStats = { requests: 0, requestRetries: 0, rateLimited: 0 };
  recordResends = 0;
  readonly activityIds: string[] = [];

  /** Keys of records pulled and not yet final (in a chunk, in flight or queued for re-send). */
  private readonly unfinishedKeys = new Set<string>();
  /**
   * Keys whose record went in a request given up on without its answer (timed out, connection
   * lost after sending, aborted in flight, a gateway's 502/504; an unreadable answer is taken
   * as one), to that record's index. VBA may still apply such a request later, after any
   * record sent since: a later record with the key is therefore not sent in this run (reported
   * not attempted, to send again), or VBA could end with the older data while the report said
   * the newer was saved. Re-sends of that record itself still go (the same data, whichever
   * lands last).
   */
  private readonly unsettledKeys = new Map<string, number>();
  /** See BulkOptions.sentBefore. */
  private readonly sentBefore: ((index: number) => boolean) | undefined;
  /** A record pulled but not yet placed in a chunk (byte limit reached or key busy). */
  private carry: Pending<R, K> | undefined;
  private nextIndex = 0;
  private inputDone = false;
  private inputError: unknown;
  stop: BulkStop | undefined;
  answered = false;
  inFlightChunks = 0;
  private inFlightRecords = 0;
  private readonly inFlight = new Set<Promise<void>>();
  /** Wakes the loop when a request finishes, the run is aborted, or a re-send is due. */
  private readonly waker = new Waker();
  /** The last read of an async input returned at its deadline, without a record. */
  private readTimedOut = false;

  constructor(
    readonly driver: BulkDriver<R, K>,
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
    this.settings = retrySettings(options);
    this.sentBefore = sentBeforeOption(options.sentBefore);
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
      progressInterval(options.progressIntervalMs),
      () => this.snapshot(),
    );
  }

  private snapshot(): BulkProgress {
    return {
      done: this.ledger.done,
      failed: this.ledger.failed,
      inFlight: this.inFlightRecords,
      requests: this.stats.requests,
      retries: this.stats.requestRetries + this.recordResends,
      elapsedMs: performance.now() - this.started,
      total: this.intake.knownLength ?? (this.inputDone ? this.ledger.registered : undefined),
    };
  }

  get stopped(): boolean {
    return (
      this.signal?.aborted === true ||
      this.stop !== undefined ||
      this.inputError !== undefined ||
      this.ledger.callbackError !== undefined
    );
  }

  async run(): Promise<BulkReport<K>> {
    this.signal?.addEventListener("abort", this.waker.wake);
    try {
      await this.loop();
      await Promise.allSettled([...this.inFlight]);
      await this.finish();
    } finally {
      this.signal?.removeEventListener("abort", this.waker.wake);
      this.link.release();
    }
    this.progress.flush();
    const report = this.ledger.build(this.runStats(), this.stopOf());
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

  private stopOf(): BulkStop | undefined {
    return stopOf(this.stop, this.signal?.aborted, this.inputError, this.ledger.callbackError);
  }

  private runStats(): RunStats {
    return {
      requests: this.stats.requests,
      retries: this.stats.requestRetries + this.recordResends,
      rateLimited: this.stats.rateLimited,
      activityIds: this.activityIds,
      elapsedMs: performance.now() - this.started,
    };
  }

  private async loop(): Promise<void> {
    for (;;) {
      if (this.stopped) return;
      if (this.inFlightChunks >= this.flow.limit) {
        await this.waker.wait();
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
      if (!this.readTimedOut) await this.waker.wait(this.retryQueue.nextReadyAt());
    }
  }

  /**
   * The next record, registered; invalid records are failed right here. `undefined` when the
   * input is exhausted, the run stopped, or `deadline` passed first. Async inputs only: a sync
   * one (an array) is read by {@link pullSync}, without a promise per record.
   */
  private async pull(deadline: number | undefined): Promise<Pending<R, K> | undefined> {
    while (!this.inputDone && !this.stopped) {
      const next = await this.intake.next(deadline).catch((error: unknown) => {
        this.inputError = error ?? new Error("the input threw a nullish value");
      });
      this.readTimedOut = next === LATER;
      const pending = next === undefined || next === LATER ? undefined : this.admit(next);
      if (pending !== SKIPPED) return pending;
    }
    return undefined;
  }

  private pullSync(nextSync: () => IteratorResult<R, unknown>): Pending<R, K> | undefined {
    while (!this.inputDone && !this.stopped) {
      let next: IteratorResult<R, unknown>;
      try {
        next = nextSync();
      } catch (error) {
        this.inputError = error ?? new Error("the input threw a nullish value");
        return undefined;
      }
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
    const pending = prepare(this.driver, this.ledger, index, record, key);
    if (pending === undefined) {
      this.progress.tick(performance.now());
      return SKIPPED;
    }
    if (this.sentBefore !== undefined && this.wasSentBefore(index)) this.markUnsettled(pending);
    return pending;
  }

  /** The caller's sentBefore for a record; a throw is taken as "it may have been sent". */
  private wasSentBefore(index: number): boolean {
    try {
      return (this.sentBefore as (index: number) => boolean)(index) === true;
    } catch {
      return true;
    }
  }

  private unfinishedRecords(builderSize: number): number {
    return this.inFlightRecords + this.retryQueue.size + builderSize;
  }

  /** When a read of a slow input should give up waiting (see `lingerMs`). */
  private readDeadline(builderSize: number, chunkStarted: number): number | undefined {
    let deadline = builderSize > 0 ? chunkStarted + this.settings.lingerMs : undefined;
    const ready = this.retryQueue.nextReadyAt();
    if (ready !== undefined && (deadline === undefined || ready < deadline)) deadline = ready;
    // While requests are in flight, look up now and then for records they hand back.
    if (this.inFlightChunks > 0) {
      const soon = performance.now() + Math.max(this.settings.lingerMs, 10);
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
    // Records pulled and not finished stay within this: read once, and again after each wait
    // for the input (the flow limit is worked out from the rate, not a field).
    let capacity = this.limits.chunkSize * this.flow.limit;
    while (!builder.full && !this.stopped) {
      if (this.carry === undefined && this.unfinishedRecords(builder.size) >= capacity) break;
      const nextSync = this.intake.nextSync;
      let pending = this.carry;
      if (pending === undefined && nextSync !== undefined) pending = this.pullSync(nextSync);
      else if (pending === undefined) {
        pending = await this.pull(this.readDeadline(builder.size, chunkStarted));
        capacity = this.limits.chunkSize * this.flow.limit;
      }
      if (pending === undefined) break;
      // Held back for good (not waiting for the record before it to be final, which may be
      // a while: its re-sends back off).
      const unsettledBy =
        this.unsettledKeys.size > 0 ? this.unsettledKeys.get(pending.keyId) : undefined;
      if (unsettledBy !== undefined && unsettledBy < pending.index) {
        this.carry = undefined;
        this.ledger.skip(pending.index, UNSETTLED_KEY_MESSAGE, undefined, true);
        this.progress.tick(performance.now());
        continue;
      }
      this.carry = pending;
      if (this.unfinishedKeys.has(pending.keyId)) break;
      if (!builder.fits(pending.bytes)) break;
      this.carry = undefined;
      this.unfinishedKeys.add(pending.keyId);
      builder.add(pending, pending.bytes);
    }
    return builder.items;
  }

  private launch(chunk: Pending<R, K>[]): void {
    this.inFlightChunks++;
    this.inFlightRecords += chunk.length;
    const { records, json, keys } = requestOf(chunk, this.ledger);
    const started = performance.now();
    const task = this.driver
      .send(records, json, this.signal, this.stats, keys)
      .then(
        (outcome) => answered(this, chunk, outcome, performance.now() - started),
        (error: unknown) => sendFailedUnexpectedly(this, chunk, error),
      )
      .finally(() => {
        this.inFlightChunks--;
        this.inFlightRecords -= chunk.length;
        this.inFlight.delete(task);
        this.progress.tick(performance.now());
        this.waker.wake();
      });
    this.inFlight.add(task);
    this.progress.tick(performance.now());
  }

  finalize(pending: Pending<R, K>): void {
    this.unfinishedKeys.delete(pending.keyId);
  }

  markUnsettled(pending: Pending<R, K>): void {
    if (!this.unsettledKeys.has(pending.keyId))
      this.unsettledKeys.set(pending.keyId, pending.index);
  }

  requeue(pending: Pending<R, K>, delayMs?: number): void {
    const resends = Math.max(1, this.ledger.attemptsOf(pending.index));
    const backoff = this.settings.retryDelayMs * 2 ** (resends - 1);
    const delay = delayMs ?? Math.min(MAX_RECORD_RETRY_DELAY_MS, backoff);
    // A stopped run sends nothing more: the final sweep reports the record (not attempted).
    if (!this.stopped) this.recordResends++;
    this.retryQueue.push(pending, delay > 0 && !this.stopped ? performance.now() + delay : 0);
  }

  canRetry(pending: Pending<R, K>): boolean {
    const retries = this.ledger.attemptsOf(pending.index) - pending.bisects;
    return retries <= this.settings.maxRecordRetries;
  }

  /** Halves the chunk size for the rest of the run (after a 413 or a timeout). */
  shrinkChunks(): void {
    this.limits.chunkSize = Math.max(1, Math.floor(this.limits.chunkSize / 2));
  }

  /** Accounts for everything not sent when the run ends early, and closes the input. */
  private async finish(): Promise<void> {
    const stop = this.signal?.aborted ? undefined : this.stopOf();
    const reason = this.signal?.aborted ? "not sent: the run was aborted" : stop?.message;
    const leftovers = [
      ...this.retryQueue.drain(),
      ...this.halves.splice(0).flat(),
      ...(this.carry ? [this.carry] : []),
    ];
    this.carry = undefined;
    leftovers.sort((a, b) => a.index - b.index);
    for (const pending of leftovers) {
      this.ledger.skip(pending.index, reason ?? "not sent", stop?.reason);
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
    this.ledger.skip(index, reason, this.stopOf()?.reason);
  }
}
