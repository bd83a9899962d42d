// The interfaces this package implements. They MUST stay identical to @vbapi-sdk/client's
// `Limiter`, `StoredToken` and `TokenCache` (issues 13 and 14); they are declared here until the
// client exports them, then become `import type { ... } from "@vbapi-sdk/client"`.

/** A rate limiter shared by every request of a client (the in-memory token bucket is the default). */
export interface Limiter {
  /** Resolves when a request may go; rejects with the signal's reason when it aborts first. */
  acquire(signal?: AbortSignal): Promise<void>;
  /** The server answered 429: every sharer pauses for retryAfterMs (or a default backoff when undefined), capped at maxMs. */
  backOff(retryAfterMs: number | undefined, maxMs: number): void;
  /** A non-429 answer arrived (resets consecutive-429 escalation). */
  onSuccess(): void;
  /** ms until requests may flow again after a 429 pause (0 when not paused). */
  pausedFor(): number;
  stats(): { acquired: number; rateLimited: number; waiting: number };
  /** Optional sync fast path: take a permit now if one is free without waiting. */
  tryAcquire?(): boolean;
  close?(): Promise<void>;
}

export interface StoredToken {
  token: string;
  /** epoch ms */
  expiresAt: number;
}

export interface TokenCache {
  get(key: string): Promise<StoredToken | undefined>;
  set(key: string, value: StoredToken): Promise<void>;
  delete(key: string): Promise<void>;
  /** Optional cross-process mutual exclusion, so that only one process logs in at a time: runs fn while holding a lock on key (with a TTL so a killed holder never blocks for long). */
  withLock?<T>(key: string, ttlMs: number, fn: () => Promise<T>): Promise<T>;
}

/** Where this package reports a Redis outage and its end (console fits). */
export interface RedisLogger {
  warn(message: string): void;
  info?(message: string): void;
}
