// The session's accounting: what became of every row (succeeded, failed, invalid, or pending:
// not final, sent again by resume), the request counts, and the first failures to show. It
// decides; the session writes the run folder.
import type { BulkItem } from "@vbapi-sdk/client";
import type { Counters } from "../display.ts";

/** What became of one row the engine reported. */
export type Settled =
  | { final: "succeeded"; outcome: "created" | "updated" }
  | { final: "failed"; message: string }
  /**
   * Not final: never sent, stopped by 401/403 or by VBA unreachable, or cut off by the abort.
   * Resume sends it.
   */
  | { final: false };

export class Tally {
  /** The live counts the display shows. */
  readonly counters: Counters;
  rateLimited = 0;
  created = 0;
  updated = 0;
  pending = 0;
  /** Of the pending rows, those the SDK held back behind an earlier row with the same key. */
  heldBack = 0;
  resent = 0;
  /** The first ten failures, `row N: reason`, for the end-of-run report. */
  readonly firstFailures: string[] = [];
  /** The server refused the credentials (a whole request answered 401/403): the session is stopped. */
  authStopped = false;
  /** What VBA said when it refused them (the SDK's message: no secrets). */
  authMessage: string | undefined;
  /** The SDK stopped the run because VBA could not be reached (after its retries). */
  unreachable = false;
  /** Whole HTTP answers 401/403 (not a record's status inside a 207). */
  private refusedAnswers = 0;

  constructor(bytesTotal: number | undefined) {
    this.counters = {
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
      bytesTotal,
      elapsedMs: 0,
    };
  }

  /** Every HTTP request (the client's own retries included) is counted as it is sent... */
  requestSent(): void {
    this.counters.requests++;
  }

  /** ...and its answer's status, for the 429s. */
  answered(status: number): void {
    if (status === 429) this.rateLimited++;
    if (status === 401 || status === 403) this.refusedAnswers++;
  }

  invalid(row: number, message: string): void {
    this.counters.invalid++;
    this.noteFailure(row, message);
  }

  /** A row held back before the engine saw it (see HoldBehind): not final, resume sends it. */
  heldHere(): void {
    this.pending++;
    this.heldBack++;
  }

  /** Classifies and counts a row the engine reported; `aborted`: the session aborted requests. */
  settle(item: BulkItem, row: number, resent: boolean, aborted: boolean): Settled {
    if (item.outcome === "created" || item.outcome === "updated") {
      this.counters.succeeded++;
      if (item.outcome === "created") this.created++;
      else this.updated++;
      if (resent) this.resent++;
      return { final: "succeeded", outcome: item.outcome };
    }
    // Refused credentials stop the session only as the SDK says in structure: `item.stopped`
    // "refused" (the rows of the refused request and those the stop left unsent), or, as a
    // second signal, a 401/403 row after a whole HTTP answer 401/403 of this session's batch
    // calls. A record VBA refused inside a 207 (a per-record permission) is an ordinary failed row.
    const refusedRequest = (item.status === 401 || item.status === 403) && this.refusedAnswers > 0;
    const auth = item.stopped === "refused" || refusedRequest;
    if (auth) {
      this.authStopped = true;
      this.authMessage ??= item.message.split("; not sent")[0];
    }
    // The SDK stopped the run, VBA unreachable (its structured `stopped`, never the words: those
    // may be VBA's): its rows (even one an earlier attempt may have reached) are left to resume,
    // which sends them again (the endpoints upsert by key).
    const unreachable = item.stopped === "unreachable";
    if (unreachable) this.unreachable = true;
    if (item.outcome === "not_attempted" || auth || unreachable || (aborted && item.status === 0)) {
      this.pending++;
      if (item.heldBack === true) this.heldBack++;
      return { final: false };
    }
    this.counters.failed++;
    if (resent) this.resent++;
    const message = `${resent ? "resent after an interruption; " : ""}${item.message}`;
    this.noteFailure(row, `HTTP ${item.status || "-"}: ${message}`);
    return { final: "failed", message };
  }

  private noteFailure(row: number, message: string): void {
    if (this.firstFailures.length < 10) this.firstFailures.push(`row ${row}: ${message}`);
  }
}
