// Token buckets, one per API key (as VBA's limit is per key): `requestsPerSecond` tokens flow
// into each bucket continuously, at most `burst` are held; every bucket starts full.

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

/** One bucket per key, all with the same settings; `false` settings turn it into a no-op. */
export class RateLimiter {
  private rate = 25;
  private burst = 50;
  private enabled = true;
  private readonly buckets = new Map<string, { tokens: number; last: number }>();

  constructor(
    options: RateLimitOptions | false | undefined,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.configure(options);
  }

  /** Changes the settings and refills every bucket. */
  configure(options: RateLimitOptions | false | undefined): void {
    if (options === false) {
      this.enabled = false;
      return;
    }
    if (options !== undefined && (options === null || typeof options !== "object")) {
      throw new TypeError("rate limit must be { requestsPerSecond, burst } or false");
    }
    for (const name of Object.keys(options ?? {})) {
      if (name !== "requestsPerSecond" && name !== "burst") {
        throw new TypeError(`unknown rate-limit option ${name}; use requestsPerSecond and burst`);
      }
    }
    const rate = options?.requestsPerSecond ?? 25;
    const burst = options?.burst ?? Math.max(50, Math.ceil(rate));
    if (!(typeof rate === "number" && rate > 0) || !(typeof burst === "number" && burst >= 1))
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

  /** Refills every bucket. */
  reset(): void {
    this.buckets.clear();
  }

  /** Takes one token from `key`'s bucket if it holds one. */
  take(key: string): TakeResult {
    if (!this.enabled) return OK;
    const now = this.now();
    let bucket = this.buckets.get(key);
    if (!bucket) {
      bucket = { tokens: this.burst, last: now };
      this.buckets.set(key, bucket);
    }
    const elapsed = (now - bucket.last) / 1000;
    bucket.last = now;
    bucket.tokens = Math.min(this.burst, bucket.tokens + elapsed * this.rate);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return OK;
    }
    return {
      ok: false,
      retryAfterSeconds: Math.max(1, Math.ceil((1 - bucket.tokens) / this.rate)),
    };
  }
}
