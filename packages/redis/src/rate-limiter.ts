// A rate limiter shared by every process that uses one API key: one token bucket in Redis.
//
// This module is the limiter itself: its public interface and factory, the life of a waiter
// (acquire, abort, settle, close), the 429 pause it shares with every process, and the choice
// of where permits come from. Its parts, each in its own module:
// - limiter-options.ts: the options and their checking (LimiterSettings);
// - limiter-waiter.ts: the Waiter record every part passes around, and the clock;
// - bucket.ts: the shared bucket's protocol, the Lua scripts of scripts.ts run with the
//   sharers' rate and burst and their replies decoded (connection.ts runs them with a timeout);
// - limiter-queue.ts: the Redis path, the local FIFO of waiters, batched permits, reservations
//   and their confirmation;
// - limiter-fallback.ts: the local bucket while Redis is unreachable, and the probe that notices
//   its return.
// The queue and the fallback share this module's waiters, mode and pause through the small host
// interfaces they declare (QueueHost, FallbackHost), which the limiter class implements.
//
// How a permit is handed out (see README "How it works"):
// - Each process keeps its waiters in a local FIFO and asks Redis for permits for all of them in
//   one script call. Redis grants them in arrival order, each either now or as a reservation at a
//   moment no further than `maxReservationMs` ahead; the waiter sleeps until then. So the bucket
//   is spent back to back, with one round trip per batch and no polling while permits flow.
// - Waiters beyond that horizon are not reserved: the process retries when the horizon reaches
//   them, plus a random jitter of up to one permit interval. Every process with waiters then
//   competes for each permit that enters the horizon with the same chance, whatever its queue
//   length: no process starves, however busy the others are.
// - A killed process's reservations lie within the horizon: they are lost for at most that long
//   (1 s by default). Nothing else is held: a token bucket has no leases.
// - A 429 (backOff) pauses the bucket in Redis and bumps a sequence number that voids every
//   outstanding reservation: a waiter checks it when it wakes and queues again if it changed.
// - Redis unreachable (an error or no answer within commandTimeoutMs): one warning, then a local
//   bucket at requestsPerSecond / expectedProcesses takes over; a probe every reconnectIntervalMs
//   returns to Redis when it answers, moving the waiters back.

import { RedisBucket } from "./bucket.ts";
import { connect, reasonOf } from "./connection.ts";
import { type FallbackHost, LocalFallback, localShare } from "./limiter-fallback.ts";
import {
  checkLimiterOptions,
  type LimiterSettings,
  type RedisRateLimiterOptions,
} from "./limiter-options.ts";
import { type QueueHost, RedisQueue } from "./limiter-queue.ts";
import { now, type Waiter } from "./limiter-waiter.ts";
import type { Limiter } from "./types.ts";

export interface RedisRateLimiterStats {
  acquired: number;
  rateLimited: number;
  waiting: number;
  /** Where permits come from right now. */
  backend: "redis" | "local";
  /** Times Redis became unreachable and the local bucket took over. */
  fallbacks: number;
}

export interface RedisRateLimiter extends Limiter {
  stats(): RedisRateLimiterStats;
  /** Rejects the waiting callers, stops timers, and closes the connection if this package opened it. */
  close(): Promise<void>;
}

/** acquire() when Redis is unreachable and `fallback: false`. */
export class RedisUnavailableError extends Error {
  override name = "RedisUnavailableError";
}

class RedisBucketLimiter implements RedisRateLimiter, QueueHost, FallbackHost {
  // Read by the Redis queue (QueueHost); written only here.
  mode: "redis" | "local" = "redis";
  closed = false;
  pausedUntil = 0;

  private readonly settings: LimiterSettings;
  private readonly bucket: RedisBucket;
  private readonly queue: RedisQueue;
  /** The local fallback while Redis is unreachable (kept after close(), as the mode is). */
  private local: LocalFallback | undefined;
  private consecutive429 = 0;
  private acquired = 0;
  private rateLimited = 0;
  private pending = 0;
  private fallbacks = 0;

  constructor(options: RedisRateLimiterOptions) {
    this.settings = checkLimiterOptions(options);
    this.bucket = new RedisBucket(connect(options, "createRedisRateLimiter"), this.settings);
    this.queue = new RedisQueue(this, this.bucket, this.settings.horizonMs);
  }

  acquire(signal?: AbortSignal): Promise<void> {
    if (this.closed) return Promise.reject(new Error("the Redis rate limiter is closed"));
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise<void>((resolve, reject) => {
      const w: Waiter = {
        resolve,
        reject,
        signal,
        onAbort: undefined,
        phase: "queued",
        timer: undefined,
        seq: 0,
        dueAt: 0,
      };
      if (signal) {
        w.onAbort = () => this.abort(w, signal.reason);
        signal.addEventListener("abort", w.onAbort, { once: true });
      }
      this.pending++;
      this.route(w);
    });
  }

  backOff(retryAfterMs: number | undefined, maxMs: number): void {
    this.rateLimited++;
    this.consecutive429++;
    const ms = Math.max(
      0,
      Math.min(maxMs, retryAfterMs ?? 1000 * 2 ** Math.min(this.consecutive429 - 1, 16)),
    );
    this.notePause(ms);
    if (this.mode !== "redis") return;
    this.bucket
      .backOff(ms)
      .then((pausedMs) => this.notePause(pausedMs))
      .catch((error) => this.onRedisError(error));
  }

  onSuccess(): void {
    this.consecutive429 = 0;
    this.local?.onSuccess();
  }

  pausedFor(): number {
    // Every 429 pause is noted in pausedUntil (and passed on to the local bucket); the local
    // bucket's own hold after a fallback is not a 429 pause.
    return Math.max(0, this.pausedUntil - now());
  }

  stats(): RedisRateLimiterStats {
    return {
      acquired: this.acquired,
      rateLimited: this.rateLimited,
      waiting: this.pending,
      backend: this.mode,
      fallbacks: this.fallbacks,
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.queue.close(new Error("the Redis rate limiter is closed"));
    // Waiters on the local bucket: route() sees `closed` and rejects them.
    this.local?.close();
    await this.bucket.disconnect();
  }

  // --- waiters -----------------------------------------------------------------------------

  /** Sends a waiter to wherever permits come from now: the Redis queue or the local bucket. */
  route(w: Waiter): void {
    if (this.closed) {
      this.settle(w, new Error("the Redis rate limiter is closed"));
      return;
    }
    if (this.mode === "local") {
      (this.local as LocalFallback).take(w);
      return;
    }
    this.queue.push(w);
  }

  /** Resolves (no error) or rejects a waiter, once. */
  settle(w: Waiter, error?: unknown): void {
    if (w.phase === "done") return;
    w.phase = "done";
    this.pending--;
    if (w.signal && w.onAbort) w.signal.removeEventListener("abort", w.onAbort);
    if (error === undefined) {
      this.acquired++;
      w.resolve();
    } else w.reject(error);
  }

  private abort(w: Waiter, reason: unknown): void {
    // "local": the local bucket drops it through the same signal.
    this.queue.withdraw(w);
    this.settle(w, reason);
  }

  /** A 429 pause of `ms` from now, in this process and its local bucket (never shortened). */
  notePause(ms: number): void {
    const until = now() + ms;
    if (until > this.pausedUntil) this.pausedUntil = until;
    if (ms > 0) this.local?.pause(ms);
  }

  // --- outage and return -------------------------------------------------------------------

  /** A call to Redis failed or timed out: fall back to a local bucket (or fail the waiters). */
  onRedisError(error: unknown): void {
    if (this.closed || this.mode === "local") return;
    const { fallback, logger } = this.settings;
    if (fallback === false) {
      const failure = new RedisUnavailableError(
        `Redis is unreachable (${reasonOf(error)}) and the rate limiter has no fallback`,
      );
      for (const w of this.queue.takeQueued()) this.settle(w, failure);
      return;
    }
    const { rate, burst } = localShare(this.settings.rate, this.settings.burst, fallback.processes);
    this.mode = "local";
    this.fallbacks++;
    logger.warn(
      `@vbapi-sdk/redis: Redis is unreachable (${reasonOf(error)}); rate limiting falls back to a ` +
        `local bucket of ${Number(rate.toFixed(3))} requests/s (burst ${burst}) in this process ` +
        "until Redis answers again",
    );
    // The local bucket opens only once every reservation made through Redis may have fallen
    // due: Redis granted them (to any process) at the latest when it last answered, before our
    // latest call, each at most maxReservationMs ahead, and they are honoured. A 429 pause in
    // progress is kept.
    const openAt = Math.max(
      this.pausedUntil,
      this.bucket.lastCallAt + this.settings.horizonMs,
      this.queue.lastDueAt(),
    );
    this.local = new LocalFallback(this, this.bucket, {
      rate,
      burst,
      openAt,
      reconnectMs: this.settings.reconnectMs,
    });
    this.queue.cancelWake();
    for (const w of this.queue.takeQueued()) this.local.take(w);
  }

  onRedisBack(): void {
    this.mode = "redis";
    this.queue.startCold();
    this.local = undefined;
    this.settings.logger.info?.("@vbapi-sdk/redis: Redis answers again; back to the shared bucket");
  }
}

/**
 * A rate limiter for @vbapi-sdk/client shared through Redis by every process that uses the same
 * API key (and key prefix): one atomic token bucket, a shared 429 pause, and a local fallback
 * while Redis is unreachable. All sharers must use the same requestsPerSecond and burst.
 */
export function createRedisRateLimiter(options: RedisRateLimiterOptions): RedisRateLimiter {
  return new RedisBucketLimiter(options);
}
