// Retry policy: which answers are worth another attempt, and how long to wait before it.

export interface BackoffOptions {
  /** Delay before the first retry (default 500 ms); doubles each retry. */
  initialDelayMs: number;
  /** Cap on the computed backoff (default 8 000 ms). */
  maxDelayMs: number;
  /** Cap on a server-requested Retry-After wait (default 60 000 ms). */
  maxRetryAfterMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = {
  initialDelayMs: 500,
  maxDelayMs: 8_000,
  maxRetryAfterMs: 60_000,
};

/** 408, 429, 502, 503, 504: the batch upserts are idempotent PUTs, so these are safe to resend. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status === 502 || status === 503 || status === 504;
}

/**
 * Exponential backoff with jitter: attempt 0 waits about initialDelayMs, each later retry
 * twice as long, capped at maxDelayMs; the jitter takes up to a quarter off.
 */
export function backoffDelay(
  retry: number,
  options: BackoffOptions,
  random: () => number = Math.random,
): number {
  const exp = options.initialDelayMs * 2 ** Math.max(0, retry);
  const capped = Math.min(options.maxDelayMs, exp);
  return Math.round(capped * (1 - 0.25 * random()));
}

/**
 * Parses a Retry-After header: delay-seconds or an HTTP date (RFC 9110 section 10.2.3).
 * Returns milliseconds (>= 0) or undefined when absent or unparseable.
 */
export function parseRetryAfter(
  value: string | null | undefined,
  now: number = Date.now(),
): number | undefined {
  if (value == null) return undefined;
  const text = value.trim();
  if (text === "") return undefined;
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  if (/^-/.test(text)) return undefined;
  const date = Date.parse(text);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

/** The wait before the next attempt: the server's Retry-After (capped) when given, else backoff. */
export function retryDelay(
  retry: number,
  retryAfterMs: number | undefined,
  options: BackoffOptions,
  random: () => number = Math.random,
): number {
  if (retryAfterMs !== undefined) return Math.min(retryAfterMs, options.maxRetryAfterMs);
  return backoffDelay(retry, options, random);
}
