// A rate limiter shared by every process that uses one API key: one token bucket in Redis.
//
// Over 400 lines on purpose: the Redis path, the local fallback and the switch between them share
// one queue of waiters and one 429 pause, and are only correct together (the Lua scripts are in
// scripts.ts, the connection handling in connection.ts).
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

import { setMaxListeners } from "node:events";
import { RateLimiter } from "@vbapi-sdk/client";
import {
  type Connection,
  type ConnectionOptions,
  connect,
  disconnect,
  hashKey,
  reasonOf,
  withTimeout,
} from "./connection.ts";
import { ACQUIRE, BACK_OFF, CONFIRM, REFUND } from "./scripts.ts";
import type { Limiter, RedisLogger } from "./types.ts";

export interface RedisRateLimiterOptions extends ConnectionOptions {
  /** The VBA API key whose budget is shared. Only its SHA-256 reaches Redis. */
  apiKey: string;
  /** Sustained rate shared by all processes (VBA: 25). Default 25. */
  requestsPerSecond?: number;
  /**
   * Bucket size (VBA allows 50). The default 40 keeps ten in hand: requests from several
   * processes reach VBA with more arrival jitter than one process's (45 gave an occasional 429
   * with four processes on a loaded machine).
   */
  burst?: number;
  /** Prefix of every Redis key. Default "vbapi:". */
  keyPrefix?: string;
  /**
   * When Redis is unreachable: `{ expectedProcesses }` (default 4) runs a local bucket at
   * requestsPerSecond / expectedProcesses (burst likewise, at least 1) until Redis is back;
   * `false` rejects acquire() with a RedisUnavailableError instead.
   */
  fallback?: false | { expectedProcesses?: number };
  /** Gets one warning per outage and an info line when Redis is back. Default: console. */
  logger?: RedisLogger;
  /** How far ahead a permit may be reserved, in ms (the most a killed process can waste). Default 1000. */
  maxReservationMs?: number;
  /** A Redis call that takes longer counts as an outage. Default 1000 ms. */
  commandTimeoutMs?: number;
  /** How often to probe Redis while on the local fallback. Default 1000 ms. */
  reconnectIntervalMs?: number;
}

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

type Phase = "queued" | "reserved" | "confirming" | "local" | "done";

interface Waiter {
  resolve: () => void;
  reject: (reason: unknown) => void;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
  phase: Phase;
  timer: ReturnType<typeof setTimeout> | undefined;
  /** The pause sequence a reservation was made under. */
  seq: number;
  /** When a reservation falls due (performance.now() ms). */
  dueAt: number;
}

interface AcquireReply {
  granted: number;
  pausedMs: number;
  retryMs: number;
  seq: number;
  delaysMs: number[];
}

const MAX_BATCH = 256;
const now = () => performance.now();

function positive(value: number | undefined, fallback: number, name: string, min = 0): number {
  const v = value ?? fallback;
  if (typeof v !== "number" || !Number.isFinite(v) || !(v > min)) {
    throw new RangeError(`createRedisRateLimiter: ${name} must be a finite number > ${min}`);
  }
  return v;
}

function parseAcquire(raw: unknown): AcquireReply {
  if (!Array.isArray(raw) || raw.length < 4) throw new Error("unexpected reply from the bucket");
  const n = raw.map(Number);
  return {
    granted: n[0] as number,
    pausedMs: (n[1] as number) / 1000,
    retryMs: (n[2] as number) / 1000,
    seq: n[3] as number,
    delaysMs: n.slice(4).map((us) => us / 1000),
  };
}

class RedisBucketLimiter implements RedisRateLimiter {
  private readonly connection: Connection;
  private readonly key: string;
  private readonly rate: number;
  private readonly burst: number;
  private readonly horizonMs: number;
  private readonly timeoutMs: number;
  private readonly reconnectMs: number;
  private readonly fallback: false | { processes: number };
  private readonly logger: RedisLogger;

  private readonly queue: Waiter[] = [];
  private readonly reserved = new Set<Waiter>();
  private pumping = false;
  private wakeTimer: ReturnType<typeof setTimeout> | undefined;
  private pausedUntil = 0;
  private consecutive429 = 0;
  private acquired = 0;
  private rateLimited = 0;
  private pending = 0;
  private closed = false;

  private mode: "redis" | "local" = "redis";
  private fallbacks = 0;
  /** After an outage the bucket may be gone (Redis restarted): start it empty, not full. */
  private cold = false;
  private local: RateLimiter | undefined;
  private recover: AbortController | undefined;
  private probeTimer: ReturnType<typeof setInterval> | undefined;
  private probing = false;
  /** When the latest call to Redis was sent (performance.now() ms). */
  private lastCallAt = Number.NEGATIVE_INFINITY;

  constructor(options: RedisRateLimiterOptions) {
    if (typeof options?.apiKey !== "string" || options.apiKey.length === 0) {
      throw new TypeError("createRedisRateLimiter: apiKey must be a non-empty string");
    }
    this.rate = positive(options.requestsPerSecond, 25, "requestsPerSecond");
    this.burst = positive(options.burst, 40, "burst", 0.999);
    this.horizonMs = positive(options.maxReservationMs, 1000, "maxReservationMs");
    this.timeoutMs = positive(options.commandTimeoutMs, 1000, "commandTimeoutMs");
    this.reconnectMs = positive(options.reconnectIntervalMs, 1000, "reconnectIntervalMs");
    if (options.fallback === false) this.fallback = false;
    else {
      const processes = options.fallback?.expectedProcesses ?? 4;
      if (!Number.isInteger(processes) || processes < 1) {
        throw new RangeError(
          "createRedisRateLimiter: fallback.expectedProcesses must be an integer >= 1",
        );
      }
      this.fallback = { processes };
    }
    const prefix = options.keyPrefix ?? "vbapi:";
    if (typeof prefix !== "string") {
      throw new TypeError("createRedisRateLimiter: keyPrefix must be a string");
    }
    this.logger = options.logger ?? console;
    // {hash} is a cluster hash tag: every key of one API key lives in one slot.
    this.key = `${prefix}{${hashKey(options.apiKey)}}:bucket`;
    this.connection = connect(options, "createRedisRateLimiter");
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
    this.call(BACK_OFF, [ms])
      .then((raw) => {
        const [pausedUs] = (raw as unknown[]).map(Number);
        this.notePause((pausedUs ?? 0) / 1000);
      })
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
    clearTimeout(this.wakeTimer);
    clearInterval(this.probeTimer);
    const closedError = new Error("the Redis rate limiter is closed");
    for (const w of this.queue.splice(0)) this.settle(w, closedError);
    for (const w of [...this.reserved]) {
      clearTimeout(w.timer);
      this.reserved.delete(w);
      this.settle(w, closedError);
    }
    // Waiters on the local bucket: route() sees `closed` and rejects them.
    this.recover?.abort();
    await disconnect(this.connection);
  }

  // --- waiters -----------------------------------------------------------------------------

  private route(w: Waiter): void {
    if (this.closed) {
      this.settle(w, new Error("the Redis rate limiter is closed"));
      return;
    }
    if (this.mode === "local") {
      this.viaLocal(w);
      return;
    }
    w.phase = "queued";
    this.queue.push(w);
    void this.pump();
  }

  /** Resolves (no error) or rejects a waiter, once. */
  private settle(w: Waiter, error?: unknown): void {
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
    if (w.phase === "queued") {
      const i = this.queue.indexOf(w);
      if (i >= 0) this.queue.splice(i, 1);
    } else if (w.phase === "reserved") {
      clearTimeout(w.timer);
      this.reserved.delete(w);
      this.refund(1, w.seq);
    }
    // "confirming": confirm() refunds when it sees the waiter gone; "local": the local bucket
    // drops it through the same signal.
    this.settle(w, reason);
  }

  private refund(count: number, seq: number): void {
    if (this.mode !== "redis") return;
    this.call(REFUND, [count, seq]).catch(() => {
      // Lost with the connection: the next call notices the outage.
    });
  }

  // --- the Redis path ----------------------------------------------------------------------

  private call(script: typeof ACQUIRE, args: (string | number)[]): Promise<unknown> {
    this.lastCallAt = now();
    return script.run(
      this.connection.client,
      [this.key],
      [this.rate, this.burst, ...args],
      this.timeoutMs,
    );
  }

  private jitter(): number {
    return Math.random() * (1000 / this.rate);
  }

  private wakeAfter(ms: number): void {
    clearTimeout(this.wakeTimer);
    this.wakeTimer = setTimeout(
      () => {
        this.wakeTimer = undefined;
        void this.pump();
      },
      Math.max(1, Math.ceil(ms)),
    );
  }

  private notePause(ms: number): void {
    const until = now() + ms;
    if (until > this.pausedUntil) this.pausedUntil = until;
    if (ms > 0) this.local?.pause(ms);
  }

  /** Asks Redis for permits for the queued waiters, one batch at a time, while any wait. */
  private async pump(): Promise<void> {
    if (this.pumping || this.wakeTimer !== undefined) return;
    this.pumping = true;
    try {
      while (this.queue.length > 0 && this.mode === "redis" && !this.closed) {
        const paused = this.pausedUntil - now();
        if (paused > 0) {
          this.wakeAfter(paused + this.jitter());
          return;
        }
        const n = Math.min(this.queue.length, MAX_BATCH);
        let reply: AcquireReply;
        try {
          reply = parseAcquire(
            await this.call(ACQUIRE, [n, this.horizonMs * 1000, this.cold ? 0 : this.burst]),
          );
        } catch (error) {
          this.onRedisError(error);
          return;
        }
        this.cold = false;
        if (reply.pausedMs > 0) {
          this.notePause(reply.pausedMs);
          continue;
        }
        let unused = 0;
        for (const delay of reply.delaysMs) {
          const w = this.queue.shift();
          if (!w) unused++;
          else if (delay <= 0) this.settle(w);
          else this.reserve(w, delay, reply.seq);
        }
        // Waiters that aborted during the call leave their permits behind: give them back.
        if (unused > 0) this.refund(unused, reply.seq);
        if (reply.granted < n) {
          this.wakeAfter(reply.retryMs + this.jitter());
          return;
        }
      }
    } finally {
      this.pumping = false;
    }
  }

  private reserve(w: Waiter, delayMs: number, seq: number): void {
    w.phase = "reserved";
    w.seq = seq;
    w.dueAt = now() + delayMs;
    this.reserved.add(w);
    w.timer = setTimeout(() => void this.confirm(w), Math.max(1, Math.ceil(delayMs)));
  }

  /** A reservation is due: it stands unless a 429 pause has voided it meanwhile. */
  private async confirm(w: Waiter): Promise<void> {
    this.reserved.delete(w);
    w.timer = undefined;
    if (w.phase !== "reserved") return;
    // Made while Redis answered; with Redis gone it is still the best knowledge we have.
    if (this.mode !== "redis") {
      this.settle(w);
      return;
    }
    w.phase = "confirming";
    let seq: number;
    let pausedUs: number;
    try {
      [seq, pausedUs] = ((await this.call(CONFIRM, [])) as unknown[]).map(Number) as [
        number,
        number,
      ];
    } catch (error) {
      this.onRedisError(error);
      this.settle(w);
      return;
    }
    if (w.phase !== "confirming") {
      // Aborted while we asked: the permit is unused.
      if (seq === w.seq) this.refund(1, seq);
      return;
    }
    if (seq === w.seq) {
      this.settle(w);
      return;
    }
    this.notePause(pausedUs / 1000);
    w.phase = "queued";
    this.queue.unshift(w);
    void this.pump();
  }

  // --- outage and fallback -----------------------------------------------------------------

  private onRedisError(error: unknown): void {
    if (this.closed || this.mode === "local") return;
    if (this.fallback === false) {
      const failure = new RedisUnavailableError(
        `Redis is unreachable (${reasonOf(error)}) and the rate limiter has no fallback`,
      );
      for (const w of this.queue.splice(0)) this.settle(w, failure);
      return;
    }
    const rate = this.rate / this.fallback.processes;
    const burst = Math.max(1, Math.floor(this.burst / this.fallback.processes));
    this.mode = "local";
    this.fallbacks++;
    this.logger.warn(
      `@vbapi-sdk/redis: Redis is unreachable (${reasonOf(error)}); rate limiting falls back to a ` +
        `local bucket of ${Number(rate.toFixed(3))} requests/s (burst ${burst}) in this process ` +
        "until Redis answers again",
    );
    // The local bucket starts EMPTY and opens only once every reservation made through Redis
    // may have fallen due: Redis granted them (to any process) at the latest when it last
    // answered, before our latest call, each at most maxReservationMs ahead, and they are
    // honoured. Every process adding a full local burst on top would be a burst of 429s.
    // A 429 pause in progress is kept.
    const local = new RateLimiter({ requestsPerSecond: rate, burst });
    while (local.tryAcquire()) {
      // drain: the permits taken here are never handed out
    }
    let hold = Math.max(this.pausedUntil, this.lastCallAt + this.horizonMs) - now();
    for (const w of this.reserved) hold = Math.max(hold, w.dueAt - now());
    if (hold > 0) local.pause(hold);
    this.local = local;
    this.recover = new AbortController();
    // Every waiter on the local bucket listens to this signal (to move back to Redis).
    setMaxListeners(0, this.recover.signal);
    clearTimeout(this.wakeTimer);
    this.wakeTimer = undefined;
    for (const w of this.queue.splice(0)) this.viaLocal(w);
    this.probeTimer = setInterval(() => void this.probe(), this.reconnectMs);
    this.probeTimer.unref();
  }

  private viaLocal(w: Waiter): void {
    const local = this.local as RateLimiter;
    const recover = this.recover as AbortController;
    w.phase = "local";
    const signal = w.signal ? AbortSignal.any([w.signal, recover.signal]) : recover.signal;
    local.acquire(signal).then(
      () => this.settle(w),
      (error) => {
        if (w.phase === "done") return;
        if (w.signal?.aborted) {
          this.settle(w, w.signal.reason);
          return;
        }
        if (recover.signal.aborted) return this.route(w); // back to Redis
        this.settle(w, error);
      },
    );
  }

  private async probe(): Promise<void> {
    if (this.probing || this.mode !== "local" || this.closed) return;
    this.probing = true;
    try {
      await withTimeout(this.connection.client.ping(), this.timeoutMs);
    } catch {
      return;
    } finally {
      this.probing = false;
    }
    if (this.mode !== "local" || this.closed) return;
    clearInterval(this.probeTimer);
    this.probeTimer = undefined;
    this.mode = "redis";
    this.cold = true;
    this.local = undefined;
    this.logger.info?.("@vbapi-sdk/redis: Redis answers again; back to the shared bucket");
    this.recover?.abort();
    this.recover = undefined;
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
