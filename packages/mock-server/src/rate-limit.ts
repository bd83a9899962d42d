// Token bucket: `requestsPerSecond` tokens flow in continuously, at most `burst` are held.

/** Rate limit settings. VBA publishes 25 requests per second sustained with bursts of up to 50. */
export interface RateLimitOptions {
  /** Sustained requests per second. Default 25. */
  requestsPerSecond?: number;
  /** Bucket size: how many requests may arrive at once. Default 50. */
  burst?: number;
}

/** Outcome of taking a token: allowed, or refused with the seconds to wait. */
export type TakeResult = { ok: true } | { ok: false; retryAfterSeconds: number };

const OK: TakeResult = { ok: true };

/** A token bucket; `false` settings turn it into a no-op. */
export class TokenBucket {
  private rate = 25;
  private burst = 50;
  private enabled = true;
  private tokens = 50;
  private last = 0;

  constructor(
    options: RateLimitOptions | false | undefined,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.configure(options);
  }

  /** Changes the settings and refills the bucket. */
  configure(options: RateLimitOptions | false | undefined): void {
    if (options === false) {
      this.enabled = false;
      return;
    }
    for (const name of Object.keys(options ?? {})) {
      if (name !== "requestsPerSecond" && name !== "burst") {
        throw new TypeError(`unknown rate-limit option ${name}; use requestsPerSecond and burst`);
      }
    }
    const rate = options?.requestsPerSecond ?? 25;
    const burst = options?.burst ?? Math.max(50, Math.ceil(rate));
    if (!(rate > 0) || !(burst >= 1))
      throw new RangeError("rate limit needs requestsPerSecond > 0 and burst >= 1");
    this.enabled = true;
    this.rate = rate;
    this.burst = burst;
    this.reset();
  }

  /** Current settings, or false when off. */
  get settings(): Required<RateLimitOptions> | false {
    return this.enabled ? { requestsPerSecond: this.rate, burst: this.burst } : false;
  }

  /** Refills the bucket. */
  reset(): void {
    this.tokens = this.burst;
    this.last = this.now();
  }

  /** Takes one token if there is one. */
  take(): TakeResult {
    if (!this.enabled) return OK;
    const now = this.now();
    const elapsed = (now - this.last) / 1000;
    this.last = now;
    this.tokens = Math.min(this.burst, this.tokens + elapsed * this.rate);
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return OK;
    }
    return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - this.tokens) / this.rate)) };
  }
}
