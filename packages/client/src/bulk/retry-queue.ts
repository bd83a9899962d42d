/**
 * Records waiting to be re-sent in a later chunk, first in first out, each ready at a time
 * (per-record backoff). Records that succeeded never enter it.
 */
export class RetryQueue<T> {
  private queue: { item: T; readyAt: number }[] = [];

  get size(): number {
    return this.queue.length;
  }

  push(item: T, readyAt = 0): void {
    this.queue.push({ item, readyAt });
  }

  /** Earliest time a queued record becomes ready, or `undefined` when empty. */
  nextReadyAt(): number | undefined {
    let earliest: number | undefined;
    for (const entry of this.queue) {
      if (earliest === undefined || entry.readyAt < earliest) earliest = entry.readyAt;
    }
    return earliest;
  }

  /**
   * Removes and returns, in queue order, the ready records `accept` takes, stopping at the
   * first ready record it refuses (so a chunk is filled in order and nothing is skipped).
   */
  take(now: number, accept: (item: T) => boolean): T[] {
    const taken: T[] = [];
    const kept: { item: T; readyAt: number }[] = [];
    let open = true;
    for (const entry of this.queue) {
      if (open && entry.readyAt <= now) {
        if (accept(entry.item)) {
          taken.push(entry.item);
          continue;
        }
        open = false;
      }
      kept.push(entry);
    }
    this.queue = kept;
    return taken;
  }

  /** Empties the queue, returning what it held. */
  drain(): T[] {
    const items = this.queue.map((entry) => entry.item);
    this.queue = [];
    return items;
  }
}
