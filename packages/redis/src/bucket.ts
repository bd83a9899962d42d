// The shared token bucket as one process speaks to it: the scripts of scripts.ts run on one
// API key's bucket with the sharers' rate and burst, and their replies decoded. Every call is
// bounded by commandTimeoutMs (connection.ts): an error or a late answer rejects, and the
// limiter (rate-limiter.ts) takes either as an outage. Used by the Redis queue
// (limiter-queue.ts), the local fallback's probe (limiter-fallback.ts) and the limiter's backOff.

import { type Connection, disconnect, withTimeout } from "./connection.ts";
import { now } from "./limiter-waiter.ts";
import { ACQUIRE, BACK_OFF, CONFIRM, REFUND } from "./scripts.ts";

export interface AcquireReply {
  granted: number;
  pausedMs: number;
  retryMs: number;
  seq: number;
  delaysMs: number[];
}

export interface ConfirmReply {
  /** The bucket's pause sequence: a reservation made under another one is void. */
  seq: number;
  pausedMs: number;
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

export class RedisBucket {
  readonly rate: number;
  readonly burst: number;
  private readonly connection: Connection;
  private readonly key: string;
  private readonly timeoutMs: number;
  /** When the latest call to Redis was sent (performance.now() ms). */
  lastCallAt = Number.NEGATIVE_INFINITY;

  constructor(
    connection: Connection,
    settings: { key: string; rate: number; burst: number; timeoutMs: number },
  ) {
    this.connection = connection;
    this.key = settings.key;
    this.rate = settings.rate;
    this.burst = settings.burst;
    this.timeoutMs = settings.timeoutMs;
  }

  /**
   * Permits for `n` waiters, in arrival order, each now or reserved at most `horizonMs` ahead.
   * A missing bucket starts full. With `startEmpty` (after an outage) the bucket starts empty:
   * created empty if Redis lost it, emptied if Redis kept it (it refilled meanwhile, or the
   * commands given up on recreated it full).
   */
  acquire(n: number, horizonMs: number, startEmpty: boolean): Promise<AcquireReply> {
    return this.call(ACQUIRE, [n, horizonMs * 1000, startEmpty ? 0 : this.burst]).then(
      parseAcquire,
    );
  }

  /**
   * A 429: pauses every sharer for `ms` (never shortening a pause in progress) and voids the
   * reservations. Resolves to the pause in force, in ms.
   */
  backOff(ms: number): Promise<number> {
    return this.call(BACK_OFF, [ms]).then((raw) => {
      const [pausedUs] = (raw as unknown[]).map(Number);
      return (pausedUs ?? 0) / 1000;
    });
  }

  /** The pause sequence and the pause in force: a due reservation stands if its sequence holds. */
  confirm(): Promise<ConfirmReply> {
    return this.call(CONFIRM, []).then((raw) => {
      const [seq, pausedUs] = (raw as unknown[]).map(Number) as [number, number];
      return { seq, pausedMs: pausedUs / 1000 };
    });
  }

  /** Gives back `count` reserved permits, unless a 429 has voided them (the sequence moved on). */
  refund(count: number, seq: number): Promise<unknown> {
    return this.call(REFUND, [count, seq]);
  }

  /** Resolves when Redis answers a PING within commandTimeoutMs. */
  ping(): Promise<unknown> {
    return withTimeout(this.connection.client.ping(), this.timeoutMs);
  }

  /** Closes the connection if this package opened it. */
  disconnect(): Promise<void> {
    return disconnect(this.connection);
  }

  private call(script: typeof ACQUIRE, args: (string | number)[]): Promise<unknown> {
    this.lastCallAt = now();
    return script.run(
      this.connection.client,
      [this.key],
      [this.rate, this.burst, ...args],
      this.timeoutMs,
    );
  }
}
