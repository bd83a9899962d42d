// Wakes the bulk loop: when a request finishes, the run is aborted, or a timestamp (a re-send
// that comes due) passes. Timestamps are performance.now(): a wall clock that jumps moves nothing.

export class Waker {
  private waiters: (() => void)[] = [];

  /** Wakes every waiter (an arrow function: it is also the abort listener). */
  readonly wake = (): void => {
    const waiters = this.waiters;
    this.waiters = [];
    for (const resolve of waiters) resolve();
  };

  /** Resolves at the next wake(), or at `until` (a performance.now() timestamp) if it comes first. */
  wait(until?: number): Promise<void> {
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
}
