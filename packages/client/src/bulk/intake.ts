// Reading the bulk input without ever getting stuck on it: a read that has not settled when the
// run is aborted (or when a partly filled chunk should go) is kept, not lost, and the input is
// closed without waiting on a stalled generator.
import { type BulkInput, openSource, type RecordSource } from "./source.ts";

/** Returned by {@link Intake.next} when the deadline passed or the run was aborted first. */
export const LATER: unique symbol = Symbol("later");

export class Intake<R> {
  private readonly source: RecordSource<R>;
  /** A read that has not settled yet (kept across calls). */
  private pending: Promise<IteratorResult<R, unknown>> | undefined;

  constructor(
    input: BulkInput<R>,
    private readonly signal: AbortSignal | undefined,
  ) {
    this.source = openSource(input);
  }

  get knownLength(): number | undefined {
    return this.source.knownLength;
  }

  /** Arrays and sync iterables: the next record without a promise. */
  get nextSync(): (() => IteratorResult<R, unknown>) | undefined {
    return this.source.nextSync;
  }

  /**
   * The next record of an async input; {@link LATER} when `deadline` (a performance.now() timestamp)
   * passes or the signal aborts first: the read goes on and the next call picks it up.
   */
  next(deadline?: number): Promise<IteratorResult<R, unknown> | typeof LATER> {
    const read = this.pending ?? this.source.next();
    this.pending = read;
    const settle = (value: IteratorResult<R, unknown>) => {
      if (this.pending === read) this.pending = undefined;
      return value;
    };
    const signal = this.signal;
    if (signal === undefined && deadline === undefined)
      return read.then(settle, (error) => {
        if (this.pending === read) this.pending = undefined;
        throw error;
      });
    return new Promise((resolve, reject) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      let gaveUp = false;
      const later = () => {
        // The read goes on; its value stays `pending` for the next call (or lateRecord).
        gaveUp = true;
        cleanup();
        resolve(LATER);
      };
      const cleanup = () => {
        if (timer !== undefined) clearTimeout(timer);
        signal?.removeEventListener("abort", later);
      };
      if (signal?.aborted) return later();
      signal?.addEventListener("abort", later, { once: true });
      if (deadline !== undefined)
        timer = setTimeout(later, Math.max(0, deadline - performance.now()));
      read.then(
        (value) => {
          if (gaveUp) return;
          cleanup();
          resolve(settle(value));
        },
        (error: unknown) => {
          if (gaveUp) return;
          cleanup();
          if (this.pending === read) this.pending = undefined;
          reject(error);
        },
      );
    });
  }

  /**
   * At the end of a stopped run: waits at most `graceMs` for a read still under way, and returns
   * the record it produced (so a record yielded during the abort is still accounted for).
   */
  async lateRecord(graceMs: number): Promise<IteratorResult<R, unknown> | undefined> {
    const read = this.pending;
    if (read === undefined) return undefined;
    this.pending = undefined;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), graceMs);
    });
    try {
      return await Promise.race([read.catch(() => undefined), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Reads the rest of an array input (used to report records never sent). */
  rest(): Promise<IteratorResult<R, unknown>> {
    return this.source.next();
  }

  /** Closes the input (`return()`), waiting at most `graceMs` for a generator stuck in an await. */
  async close(graceMs: number): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      this.source.close(),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, graceMs);
      }),
    ]);
    clearTimeout(timer);
  }
}
