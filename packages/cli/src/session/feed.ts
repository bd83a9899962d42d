// The bulk engine's view of the input: records one at a time, each remembered by the engine's
// index until the engine reports it. A stop ends the input at once, even mid-read.
import type { RowToSend } from "./rows.ts";

const STOP = Symbol("stop");

export class Feed {
  /** A stop was requested: no more rows are handed to the engine. */
  stopped = false;
  /** Why the input ended early, when reading it failed (the rows before were still sent). */
  readError: unknown;
  /** Rows handed to the engine and not reported yet, by the engine's index. */
  private readonly inFlight = new Map<number, RowToSend>();
  private nextIndex = 0;
  /** Wakes the engine's pending read when a stop is requested. */
  private wakeStop: (() => void) | undefined;

  /** `beforeSend` runs for each row before the engine can send it. */
  constructor(
    private readonly rows: AsyncIterator<RowToSend>,
    private readonly beforeSend: (row: RowToSend) => void,
  ) {}

  /** Requests a stop; false when one was requested already. */
  stop(): boolean {
    if (this.stopped) return false;
    this.stopped = true;
    this.wakeStop?.();
    return true;
  }

  /** The row the engine reported at `index`, forgotten from here on. */
  take(index: number): RowToSend | undefined {
    const row = this.inFlight.get(index);
    this.inFlight.delete(index);
    return row;
  }

  /**
   * The row at the engine's `index` may still be in a request of the previous session (it was
   * killed or aborted requests in flight): the engine holds back later rows with its key.
   */
  sentBefore(index: number): boolean {
    return this.inFlight.get(index)?.mayBeOnItsWay === true;
  }

  /** Rows handed to the engine that it never reported. */
  get unreported(): number {
    return this.inFlight.size;
  }

  records(): AsyncIterable<Record<string, unknown>> {
    return {
      [Symbol.asyncIterator]: () => ({
        next: () => this.next(),
        return: async (): Promise<IteratorResult<Record<string, unknown>>> => ({
          done: true,
          value: undefined,
        }),
      }),
    };
  }

  private async next(): Promise<IteratorResult<Record<string, unknown>>> {
    if (this.stopped) return { done: true, value: undefined };
    // Not Promise.race with a long-lived promise: that would keep one reaction per row.
    // A broken input ends the input here: the rows read before it are still sent.
    const result = await new Promise<IteratorResult<RowToSend> | typeof STOP>((resolve) => {
      this.wakeStop = () => resolve(STOP);
      this.rows.next().then(resolve, (error: unknown) => {
        this.readError = error;
        resolve(STOP);
      });
    });
    this.wakeStop = undefined;
    if (result === STOP || result.done || this.stopped) return { done: true, value: undefined };
    const item = result.value;
    this.beforeSend(item);
    this.inFlight.set(this.nextIndex++, item);
    return { done: false, value: item.record };
  }
}
