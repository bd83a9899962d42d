// The Redis path of the rate limiter: this process's waiters in a local FIFO, permits asked for in
// batches through the shared bucket (bucket.ts), reservations slept on and confirmed when due,
// and permits of aborted waiters given back. The limiter (rate-limiter.ts) owns the waiters, the
// 429 pause and the choice between this queue and the local fallback (limiter-fallback.ts); it
// hands waiters in with push() and takes them back with takeQueued() when Redis goes away.
//
// - One ACQUIRE call serves up to MAX_BATCH queued waiters: each gets a permit now or a
//   reservation no further than maxReservationMs ahead, and sleeps until then.
// - Waiters beyond that horizon stay queued: the queue asks again when the horizon reaches them,
//   plus a random jitter of up to one permit interval, so every process with waiters competes
//   for each permit that enters the horizon with the same chance, whatever its queue length.
// - A due reservation is confirmed (CONFIRM): if a 429 has bumped the pause sequence since it was
//   made, it is void and the waiter goes back to the head of the queue.

import type { AcquireReply, RedisBucket } from "./bucket.ts";
import { now, type Waiter } from "./limiter-waiter.ts";

const MAX_BATCH = 256;

/** What the queue needs from the limiter that owns it. */
export interface QueueHost {
  readonly mode: "redis" | "local";
  readonly closed: boolean;
  /** Until when a 429 pauses every request (performance.now() ms). */
  readonly pausedUntil: number;
  notePause(ms: number): void;
  /** Resolves (no error) or rejects a waiter, once. */
  settle(w: Waiter, error?: unknown): void;
  /** A call to Redis failed or timed out. */
  onRedisError(error: unknown): void;
}

export class RedisQueue {
  private readonly host: QueueHost;
  private readonly bucket: RedisBucket;
  private readonly horizonMs: number;
  private readonly queue: Waiter[] = [];
  private readonly reserved = new Set<Waiter>();
  private pumping = false;
  private wakeTimer: ReturnType<typeof setTimeout> | undefined;
  /** After an outage the bucket may be gone (Redis restarted): start it empty, not full. */
  private cold = false;

  constructor(host: QueueHost, bucket: RedisBucket, horizonMs: number) {
    this.host = host;
    this.bucket = bucket;
    this.horizonMs = horizonMs;
  }

  /** Queues a waiter for a permit from Redis. */
  push(w: Waiter): void {
    w.phase = "queued";
    this.queue.push(w);
    void this.pump();
  }

  /** Takes an aborted waiter out of the queue, giving its reserved permit back to the bucket. */
  withdraw(w: Waiter): void {
    if (w.phase === "queued") {
      const i = this.queue.indexOf(w);
      if (i >= 0) this.queue.splice(i, 1);
    } else if (w.phase === "reserved") {
      clearTimeout(w.timer);
      this.reserved.delete(w);
      this.refund(1, w.seq);
    }
    // "confirming": confirm() refunds when it sees the waiter gone.
  }

  /** Removes and returns the waiters not yet served (reservations stay). */
  takeQueued(): Waiter[] {
    return this.queue.splice(0);
  }

  /** Stops waiting to ask Redis again (the limiter has left Redis). */
  cancelWake(): void {
    clearTimeout(this.wakeTimer);
    this.wakeTimer = undefined;
  }

  /** The latest moment an outstanding reservation falls due (performance.now() ms). */
  lastDueAt(): number {
    let last = Number.NEGATIVE_INFINITY;
    for (const w of this.reserved) last = Math.max(last, w.dueAt);
    return last;
  }

  /**
   * Back from an outage: the bucket restarts empty, not full, whether Redis lost it (restarted)
   * or kept it (hung: it refilled meanwhile, while the sharers went on at their local share).
   */
  startCold(): void {
    this.cold = true;
  }

  /** The limiter closes: rejects every queued and reserved waiter with `error`. */
  close(error: Error): void {
    clearTimeout(this.wakeTimer);
    for (const w of this.queue.splice(0)) this.host.settle(w, error);
    for (const w of [...this.reserved]) {
      clearTimeout(w.timer);
      this.reserved.delete(w);
      this.host.settle(w, error);
    }
  }

  private refund(count: number, seq: number): void {
    if (this.host.mode !== "redis") return;
    this.bucket.refund(count, seq).catch(() => {
      // Lost with the connection: the next call notices the outage.
    });
  }

  private jitter(): number {
    return Math.random() * (1000 / this.bucket.rate);
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

  /** Asks Redis for permits for the queued waiters, one batch at a time, while any wait. */
  private async pump(): Promise<void> {
    if (this.pumping || this.wakeTimer !== undefined) return;
    this.pumping = true;
    try {
      while (this.queue.length > 0 && this.host.mode === "redis" && !this.host.closed) {
        const paused = this.host.pausedUntil - now();
        if (paused > 0) {
          this.wakeAfter(paused + this.jitter());
          return;
        }
        const n = Math.min(this.queue.length, MAX_BATCH);
        let reply: AcquireReply;
        try {
          reply = await this.bucket.acquire(n, this.horizonMs, this.cold);
        } catch (error) {
          this.host.onRedisError(error);
          return;
        }
        if (reply.pausedMs > 0) {
          // Paused: the script returned before it emptied a kept bucket; the next call does.
          this.host.notePause(reply.pausedMs);
          continue;
        }
        this.cold = false;
        let unused = 0;
        for (const delay of reply.delaysMs) {
          const w = this.queue.shift();
          if (!w) unused++;
          else if (delay <= 0) this.host.settle(w);
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
    if (this.host.mode !== "redis") {
      this.host.settle(w);
      return;
    }
    w.phase = "confirming";
    let seq: number;
    let pausedMs: number;
    try {
      ({ seq, pausedMs } = await this.bucket.confirm());
    } catch (error) {
      this.host.onRedisError(error);
      this.host.settle(w);
      return;
    }
    if (w.phase !== "confirming") {
      // Aborted while we asked: the permit is unused.
      if (seq === w.seq) this.refund(1, seq);
      return;
    }
    if (seq === w.seq) {
      this.host.settle(w);
      return;
    }
    this.host.notePause(pausedMs);
    w.phase = "queued";
    this.queue.unshift(w);
    void this.pump();
  }
}
