/**
 * The accounting of a bulk run: one entry per input record, by input index, finalized exactly
 * once. The ledger keeps only the key values and the outcome of each record, never its
 * contents, so a report of a large load stays small.
 */
import { BulkAccountingError } from "../base/errors.ts";
import type { BulkItem, BulkReport, BulkStop } from "../base/types.ts";
import { USUAL_MESSAGES } from "../transport/results.ts";

/** Phrase every message of a record that may have been applied contains. */
export const MAY_HAVE_BEEN_APPLIED = "may have been applied";

/** Counters the engine adds to the report. */
export interface RunStats {
  requests: number;
  retries: number;
  rateLimited: number;
  activityIds: string[];
  elapsedMs: number;
}

/** Adds the ambiguity warning to a message unless it already carries it. */
export function withMayHaveBeenApplied(message: string): string {
  return message.includes(MAY_HAVE_BEEN_APPLIED)
    ? message
    : `${message}; ${MAY_HAVE_BEEN_APPLIED}: re-check this record`;
}

/** How the ledger hands out final outcomes. */
export interface LedgerOptions<K> {
  /** Called once per record as soon as its outcome is final. */
  onRecord?: ((item: BulkItem<K>) => void) | undefined;
  /** "items" (default) keeps every item for the report; "totals" keeps only unfinished ones. */
  report?: "items" | "totals" | undefined;
}

export class BulkLedger<K> {
  /** Every registered item, by index ("items" mode); undefined in "totals" mode. */
  private readonly items: BulkItem<K>[] | undefined;
  /** Items not final yet, by index ("totals" mode; "items" mode finds them in `items`). */
  private readonly open = new Map<number, BulkItem<K>>();
  /** "items" mode: 1 at each index whose outcome is final (an array lookup, not a Map's). */
  private closed = new Uint8Array(1024);
  private count = 0;
  private finalized = 0;
  private counts = { created: 0, updated: 0, failed: 0, notAttempted: 0 };
  private readonly onRecord: ((item: BulkItem<K>) => void) | undefined;
  /** What `onRecord` threw first (the engine then stops the run); undefined while it has not. */
  callbackError: unknown;

  constructor(options: LedgerOptions<K> = {}) {
    this.items = options.report === "totals" ? undefined : [];
    this.onRecord = options.onRecord;
  }

  /** Records registered so far (pulled from the input). */
  get registered(): number {
    return this.count;
  }

  /** Records with a final outcome. */
  get done(): number {
    return this.finalized;
  }

  get failed(): number {
    return this.counts.failed;
  }

  /** Registers the next input record; indexes must arrive in order 0, 1, 2, ... */
  register(index: number, key: K): void {
    if (index !== this.count) {
      throw new BulkAccountingError(`record ${index} registered out of order`);
    }
    const item: BulkItem<K> = {
      index,
      key,
      outcome: "not_attempted",
      status: 0,
      message: "",
      attempts: 0,
      mayHaveBeenApplied: false,
      activityId: undefined,
    };
    this.count++;
    if (this.items === undefined) this.open.set(index, item);
    else {
      this.items.push(item);
      if (index >= this.closed.length) {
        const grown = new Uint8Array(this.closed.length * 2);
        grown.set(this.closed);
        this.closed = grown;
      }
    }
  }

  /** The record's item while its outcome is not final; undefined otherwise. */
  private lookup(index: number): BulkItem<K> | undefined {
    if (this.items === undefined) return this.open.get(index);
    return this.closed[index] === 0 ? this.items[index] : undefined;
  }

  private openItem(index: number): BulkItem<K> {
    const item = this.lookup(index);
    if (item === undefined) {
      throw new BulkAccountingError(
        index < this.count
          ? `record ${index} was already finalized`
          : `record ${index} was never registered`,
      );
    }
    return item;
  }

  /** Makes the record's outcome final and hands it to `onRecord`. */
  private close(item: BulkItem<K>): void {
    if (this.items === undefined) this.open.delete(item.index);
    else this.closed[item.index] = 1;
    this.finalized++;
    if (this.onRecord === undefined || this.callbackError !== undefined) return;
    try {
      this.onRecord(item);
    } catch (error) {
      this.callbackError = error ?? new Error("onRecord threw a nullish value");
    }
  }

  /** How many requests carried the record so far. */
  attemptsOf(index: number): number {
    return this.lookup(index)?.attempts ?? 0;
  }

  /** A request carrying the record is about to be sent. */
  attempt(index: number): void {
    this.openItem(index).attempts++;
  }

  /** Takes back an attempt whose request never left (aborted before sending). */
  unattempt(index: number): void {
    const item = this.openItem(index);
    if (item.attempts > 0) item.attempts--;
  }

  /** An attempt of the record may have been applied by the server although none succeeded. */
  markMayHaveBeenApplied(index: number): void {
    this.openItem(index).mayHaveBeenApplied = true;
  }

  /** The record was in a request VBA answered with this activity id. */
  answeredBy(index: number, activityId: string): void {
    this.openItem(index).activityId = activityId;
  }

  /** Remembers the last status and message seen for a record that will be retried. */
  note(index: number, status: number, message: string): void {
    const item = this.openItem(index);
    item.status = status;
    item.message = message;
  }

  succeed(index: number, outcome: "created" | "updated", status: number, message: string): void {
    const item = this.openItem(index);
    item.outcome = outcome;
    item.status = status;
    // VBA's usual words are kept once, not once per record (a million-record report).
    item.message = USUAL_MESSAGES.get(message) ?? message;
    item.mayHaveBeenApplied = false;
    this.counts[outcome]++;
    this.close(item);
  }

  /**
   * Fails a record. `mayHaveBeenApplied` is sticky: once any attempt was ambiguous the record
   * stays flagged, and its message then always says "may have been applied".
   */
  fail(
    index: number,
    status: number,
    message: string,
    mayHaveBeenApplied = false,
    stopped?: BulkStop["reason"],
  ): void {
    const item = this.openItem(index);
    item.outcome = "failed";
    if (stopped) item.stopped = stopped;
    item.status = status;
    item.mayHaveBeenApplied = item.mayHaveBeenApplied || mayHaveBeenApplied;
    item.message = item.mayHaveBeenApplied ? withMayHaveBeenApplied(message) : message;
    this.counts.failed++;
    this.close(item);
  }

  /**
   * The record was not sent (again). A record already sent is failed instead, unless the run's
   * stop held it back and no attempt may have been applied: then it is not attempted.
   */
  skip(index: number, message: string, stopped?: BulkStop["reason"], heldBack = false): void {
    const item = this.openItem(index);
    if (stopped) item.stopped = stopped;
    // Sent before and not applied (a retryable status), then held back by the run's stop: not
    // attempted, to send again. One an attempt may have reached is failed, as after an abort.
    if (item.attempts > 0 && (item.mayHaveBeenApplied || stopped === undefined)) {
      this.fail(index, item.status, `${item.message || "not retried"}; ${message}`);
      return;
    }
    item.outcome = "not_attempted";
    item.status = 0;
    item.message = message;
    if (heldBack) item.heldBack = true;
    this.counts.notAttempted++;
    this.close(item);
  }

  /** Builds the report; throws {@link BulkAccountingError} unless every record is final. */
  build(stats: RunStats, stopped?: BulkStop): BulkReport<K> {
    if (this.finalized !== this.count) {
      throw new BulkAccountingError(
        `${this.count - this.finalized} record(s) have no final outcome`,
      );
    }
    return {
      items: this.items ?? [],
      totals: { total: this.count, ...this.counts },
      requests: stats.requests,
      retries: stats.retries,
      rateLimited: stats.rateLimited,
      activityIds: stats.activityIds,
      elapsedMs: stats.elapsedMs,
      ...(stopped ? { stopped } : {}),
    };
  }
}
