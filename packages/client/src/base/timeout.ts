// One timeout per attempt, combined with the caller's signal (never one signal shared by attempts).

/**
 * The longest delay a timer holds (2^31 - 1 ms, about 24.8 days): a longer one fires after 1 ms
 * (Node warns, browsers say nothing). Options are checked against it; waits are capped at it.
 */
export const MAX_TIMER_MS = 2_147_483_647;
/** How an option's message names that limit. */
export const AT_MOST_LONGEST_TIMER = `at most ${MAX_TIMER_MS} (about 24.8 days, the longest timer)`;

export interface AttemptSignal {
  signal: AbortSignal;
  /** True when this attempt's own timer fired (as opposed to the caller aborting). */
  timedOut(): boolean;
  /** Stops the timer and detaches from the caller's signal. Call when the attempt is over. */
  clear(): void;
}

/**
 * One object per attempt: its controller (fetch needs a signal to be abortable), at most one
 * timer, and a listener on the caller's signal only when there is one.
 */
class Attempt implements AttemptSignal {
  private readonly controller = new AbortController();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private fired = false;
  private readonly onAbort: (() => void) | undefined;

  constructor(
    private readonly caller: AbortSignal | undefined,
    timeoutMs: number,
  ) {
    if (Number.isFinite(timeoutMs) && timeoutMs > 0) {
      this.timer = setTimeout(() => {
        this.fired = true;
        this.controller.abort(new DOMException("The attempt timed out", "TimeoutError"));
      }, timeoutMs);
    }
    if (caller === undefined) return;
    if (caller.aborted) this.controller.abort(caller.reason);
    else {
      this.onAbort = () => this.controller.abort(caller.reason);
      caller.addEventListener("abort", this.onAbort, { once: true });
    }
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  timedOut(): boolean {
    return this.fired;
  }

  clear(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.onAbort) this.caller?.removeEventListener("abort", this.onAbort);
  }
}

export function attemptSignal(
  callerSignal: AbortSignal | undefined,
  timeoutMs: number,
): AttemptSignal {
  return new Attempt(callerSignal, timeoutMs);
}

/** Resolves after `ms`, or rejects with the signal's reason when it aborts first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    if (ms <= 0) return resolve();
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(
      () => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      },
      Math.min(ms, MAX_TIMER_MS),
    );
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
