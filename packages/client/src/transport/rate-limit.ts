// ONE token bucket per client, shared by every request it makes (single batches and bulk runs).
import { linkSignal } from "../base/abort-link.ts";
import { ConfigurationError } from "../base/errors.ts";
import { MAX_TIMER_MS } from "../base/timeout.ts";
// A 429 pauses the whole bucket, so concurrent requests back off together.

export interface RateLimitOptions {
  /** Sustained rate (VBA: 25). */
  requestsPerSecond: number;
  /** Bucket size: how many requests may go at once after a quiet spell (VBA: 50). */
  burst: number;
}

// VBA allows 25 requests/s with bursts of 50. The client spends 45 of the 50 at once and keeps five
// in hand (200 ms of arrival jitter at 25/s), so a request that reaches the server a little early
// does not find its bucket empty: a single 429 costs a whole second of Retry-After.
export const DEFAULT_RATE_LIMIT: RateLimitOptions = { requestsPerSecond: 25, burst: 45 };

interface Waiter {
  resolve: () => void;
  reject: (reason: unknown) => void;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
  /** Lets go of the caller's signal (one shared listener however many wait on it). */
  release: () => void;
}

export interface RateLimiterStats {
  /** Tokens handed out. */
  acquired: number;
  /** 429 answers reported through backOff(). */
  rateLimited: number;
  /** Callers waiting for a token right now. */
  waiting: number;
}

/**
 * What the client needs of a rate limiter. Every request of a client takes a permit first; a
 * 429 is reported so that every sharer pauses. The in-memory {@link RateLimiter} is the default;
 * `@vbapi-sdk/redis` shares one budget between processes.
 */
export interface Limiter {
  /** Resolves when a request may go; rejects with the signal's reason when it aborts first. */
  acquire(signal?: AbortSignal): Promise<void>;
  /** Optional fast path: takes a permit now when one is free, without a promise. */
  tryAcquire?(): boolean;
  /**
   * The server answered 429: every sharer pauses for `retryAfterMs` (or an escalating default
   * when undefined), capped at `maxMs`.
   */
  backOff(retryAfterMs: number | undefined, maxMs: number): void;
  /** A non-429 answer arrived (resets the escalation of consecutive 429s). */
  onSuccess(): void;
  /** Milliseconds until requests may flow again after a 429 pause (0 when not paused). */
  pausedFor(): number;
  stats(): RateLimiterStats;
  /** Releases what the limiter holds (connections, timers). */
  close?(): Promise<void>;
}

/** The in-memory token bucket: one per client unless a shared {@link Limiter} is given. */
export class RateLimiter implements Limiter {
  readonly requestsPerSecond: number;
  readonly burst: number;
  private tokens: number;
  private last: number;
  private pausedUntil = 0;
  private consecutive429 = 0;
  private readonly queue: Waiter[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;
  private acquired = 0;
  private rateLimited = 0;

  /** `false` disables the bucket (no rate cap) but keeps the shared 429 pause. */
  constructor(
    options: RateLimitOptions | false = DEFAULT_RATE_LIMIT,
    private readonly now: () => number = () => performance.now(),
  ) {
    const o =
      options === false
        ? { requestsPerSecond: Number.POSITIVE_INFINITY, burst: Number.POSITIVE_INFINITY }
        : options;
    if (!(o.requestsPerSecond > 0) || !(o.burst >= 1)) {
      throw new ConfigurationError("rateLimit needs requestsPerSecond > 0 and burst >= 1");
    }
    this.requestsPerSecond = o.requestsPerSecond;
    this.burst = o.burst;
    this.tokens = o.burst;
    this.last = this.now();
  }

  stats(): RateLimiterStats {
    return { acquired: this.acquired, rateLimited: this.rateLimited, waiting: this.queue.length };
  }

  /** Milliseconds until the 429 pause ends (0 when not paused). */
  pausedFor(): number {
    return Math.max(0, this.pausedUntil - this.now());
  }

  /** Takes one token without waiting; false when none is available (or the bucket is paused). */
  tryAcquire(): boolean {
    if (this.queue.length > 0 || this.now() < this.pausedUntil) return false;
    this.refill();
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    this.acquired++;
    return true;
  }

  /** Waits for a token (FIFO). Rejects with the signal's reason if it aborts first. */
  acquire(signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.tryAcquire()) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const link = linkSignal(signal);
      const waiter: Waiter = {
        resolve,
        reject,
        signal: link.signal,
        onAbort: undefined,
        release: link.release,
      };
      if (link.signal) {
        const linked = link.signal;
        waiter.onAbort = () => {
          const i = this.queue.indexOf(waiter);
          if (i >= 0) this.queue.splice(i, 1);
          link.release();
          reject(linked.reason);
        };
        linked.addEventListener("abort", waiter.onAbort, { once: true });
      }
      this.queue.push(waiter);
      this.schedule();
    });
  }

  /** Pauses every request for `ms` (extends, never shortens, a pause in progress). */
  pause(ms: number): void {
    const until = this.now() + Math.max(0, ms);
    if (until > this.pausedUntil) this.pausedUntil = until;
    // Restart gently after the pause instead of firing a whole burst into a limiter that just said no.
    this.tokens = Number.isFinite(this.burst) ? Math.min(this.tokens, 1) : this.burst;
    this.last = Math.max(this.last, this.pausedUntil);
    this.reschedule();
  }

  /**
   * Reports a 429: pauses the bucket for the server's Retry-After, or for an exponential backoff
   * (1 s, 2 s, 4 s ... up to maxMs) over consecutive 429s. Returns the pause in milliseconds.
   */
  backOff(retryAfterMs?: number, maxMs = 60_000): number {
    this.rateLimited++;
    this.consecutive429++;
    const ms = Math.min(maxMs, retryAfterMs ?? 1000 * 2 ** Math.min(this.consecutive429 - 1, 16));
    this.pause(ms);
    return ms;
  }

  /** Reports an answer that was not a 429: resets the consecutive-429 backoff. */
  onSuccess(): void {
    this.consecutive429 = 0;
  }

  private refill(): void {
    if (!Number.isFinite(this.requestsPerSecond)) {
      this.tokens = this.burst;
      return;
    }
    const now = this.now();
    if (now > this.last) {
      this.tokens = Math.min(
        this.burst,
        this.tokens + ((now - this.last) * this.requestsPerSecond) / 1000,
      );
      this.last = now;
    }
  }

  private reschedule(): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    this.schedule();
  }

  private schedule(): void {
    if (this.timer !== undefined) return;
    while (this.queue.length > 0) {
      const paused = this.pausedUntil - this.now();
      let wait = 0;
      if (paused > 0) {
        wait = paused;
      } else {
        this.refill();
        if (this.tokens >= 1) {
          this.tokens -= 1;
          this.acquired++;
          const waiter = this.queue.shift() as Waiter;
          if (waiter.signal && waiter.onAbort)
            waiter.signal.removeEventListener("abort", waiter.onAbort);
          waiter.release();
          waiter.resolve();
          continue;
        }
        wait = ((1 - this.tokens) * 1000) / this.requestsPerSecond;
      }
      this.timer = setTimeout(
        () => {
          this.timer = undefined;
          this.schedule();
        },
        Math.min(MAX_TIMER_MS, Math.max(1, Math.ceil(wait))),
      );
      return;
    }
  }
}
