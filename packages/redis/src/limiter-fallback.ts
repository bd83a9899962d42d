// The rate limiter's local fallback while Redis is unreachable: a bucket in this process at
// requestsPerSecond / expectedProcesses (@vbapi-sdk/client's RateLimiter), and a probe that
// pings Redis every reconnectIntervalMs. The limiter (rate-limiter.ts) opens one when a call to
// Redis fails or times out, sends its waiters here while it lasts, and when the probe gets an
// answer it returns to the Redis queue (limiter-queue.ts): the waiters still here are handed back
// through the limiter's route().
//
// The local bucket starts EMPTY and opens only at `openAt`, once every reservation made through
// Redis may have fallen due (those are honoured: a full local burst on top of them, in every
// process, would be a burst of 429s).

import { setMaxListeners } from "node:events";
import { RateLimiter } from "@vbapi-sdk/client";
import type { RedisBucket } from "./bucket.ts";
import { now, type Waiter } from "./limiter-waiter.ts";

/** What the fallback needs from the limiter that owns it. */
export interface FallbackHost {
  /** Resolves (no error) or rejects a waiter, once. */
  settle(w: Waiter, error?: unknown): void;
  /** Sends a waiter to wherever permits come from now. */
  route(w: Waiter): void;
  /** The probe reached Redis: permits come from the shared bucket again. */
  onRedisBack(): void;
}

/** The local bucket's share of the rate: rate and burst divided by the expected processes. */
export function localShare(
  rate: number,
  burst: number,
  processes: number,
): { rate: number; burst: number } {
  return { rate: rate / processes, burst: Math.max(1, Math.floor(burst / processes)) };
}

export class LocalFallback {
  private readonly host: FallbackHost;
  private readonly bucket: RedisBucket;
  private readonly local: RateLimiter;
  /** Aborted when this fallback ends: the waiters on the local bucket go back to route(). */
  private readonly recover = new AbortController();
  private readonly probeTimer: ReturnType<typeof setInterval>;
  private probing = false;
  /** Until Redis answers or the limiter closes. */
  private active = true;

  constructor(
    host: FallbackHost,
    bucket: RedisBucket,
    share: { rate: number; burst: number; openAt: number; reconnectMs: number },
  ) {
    this.host = host;
    this.bucket = bucket;
    const local = new RateLimiter({ requestsPerSecond: share.rate, burst: share.burst });
    while (local.tryAcquire()) {
      // drain: the permits taken here are never handed out
    }
    const hold = share.openAt - now();
    if (hold > 0) local.pause(hold);
    this.local = local;
    // Every waiter on the local bucket listens to this signal (to move back to Redis).
    setMaxListeners(0, this.recover.signal);
    this.probeTimer = setInterval(() => void this.probe(), share.reconnectMs);
    this.probeTimer.unref();
  }

  /** Serves a waiter from the local bucket. */
  take(w: Waiter): void {
    const recover = this.recover;
    w.phase = "local";
    const signal = w.signal ? AbortSignal.any([w.signal, recover.signal]) : recover.signal;
    this.local.acquire(signal).then(
      () => this.host.settle(w),
      (error) => {
        if (w.phase === "done") return;
        if (w.signal?.aborted) {
          this.host.settle(w, w.signal.reason);
          return;
        }
        if (recover.signal.aborted) return this.host.route(w); // back to Redis
        this.host.settle(w, error);
      },
    );
  }

  /** A 429 pause, passed on to the local bucket. */
  pause(ms: number): void {
    this.local.pause(ms);
  }

  onSuccess(): void {
    this.local.onSuccess();
  }

  /** The limiter closes: stops probing; route() gets the waiters back and rejects them. */
  close(): void {
    this.active = false;
    clearInterval(this.probeTimer);
    this.recover.abort();
  }

  private async probe(): Promise<void> {
    if (this.probing || !this.active) return;
    this.probing = true;
    try {
      await this.bucket.ping();
    } catch {
      return;
    } finally {
      this.probing = false;
    }
    if (!this.active) return;
    this.active = false;
    clearInterval(this.probeTimer);
    this.host.onRedisBack();
    this.recover.abort();
  }
}
