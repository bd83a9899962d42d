// The Redis rate limiter's options, and their checking: createRedisRateLimiter() turns the
// caller's options into LimiterSettings here, throwing on a bad value before any connection is
// opened. The limiter itself (rate-limiter.ts) and its parts only ever see checked settings.

import { type ConnectionOptions, hashKey } from "./connection.ts";
import type { RedisLogger } from "./types.ts";

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

/** The options, checked and with their defaults. */
export interface LimiterSettings {
  /** The bucket's Redis key: `<prefix>{<sha256(apiKey)>}:bucket`. */
  key: string;
  rate: number;
  burst: number;
  horizonMs: number;
  timeoutMs: number;
  reconnectMs: number;
  fallback: false | { processes: number };
  logger: RedisLogger;
}

function positive(value: number | undefined, fallback: number, name: string, min = 0): number {
  const v = value ?? fallback;
  if (typeof v !== "number" || !Number.isFinite(v) || !(v > min)) {
    throw new RangeError(`createRedisRateLimiter: ${name} must be a finite number > ${min}`);
  }
  return v;
}

/** Checks the options (all but the connection's, which connect() checks) and applies defaults. */
export function checkLimiterOptions(options: RedisRateLimiterOptions): LimiterSettings {
  if (typeof options?.apiKey !== "string" || options.apiKey.length === 0) {
    throw new TypeError("createRedisRateLimiter: apiKey must be a non-empty string");
  }
  const rate = positive(options.requestsPerSecond, 25, "requestsPerSecond");
  const burst = positive(options.burst, 40, "burst", 0.999);
  const horizonMs = positive(options.maxReservationMs, 1000, "maxReservationMs");
  const timeoutMs = positive(options.commandTimeoutMs, 1000, "commandTimeoutMs");
  const reconnectMs = positive(options.reconnectIntervalMs, 1000, "reconnectIntervalMs");
  let fallback: LimiterSettings["fallback"];
  if (options.fallback === false) fallback = false;
  else {
    const processes = options.fallback?.expectedProcesses ?? 4;
    if (!Number.isInteger(processes) || processes < 1) {
      throw new RangeError(
        "createRedisRateLimiter: fallback.expectedProcesses must be an integer >= 1",
      );
    }
    fallback = { processes };
  }
  const prefix = options.keyPrefix ?? "vbapi:";
  if (typeof prefix !== "string") {
    throw new TypeError("createRedisRateLimiter: keyPrefix must be a string");
  }
  const logger = options.logger ?? console;
  // {hash} is a cluster hash tag: every key of one API key lives in one slot.
  const key = `${prefix}{${hashKey(options.apiKey)}}:bucket`;
  return { key, rate, burst, horizonMs, timeoutMs, reconnectMs, fallback, logger };
}
