// The whole retry policy, in one place: which failures are worth another attempt (per request
// by the client, per record by the bulk engine), and how long to wait before it.
//
// The batch endpoints are idempotent upserts by key, so resending is always safe; what the
// policy decides is whether it is useful. One name per idea: `mayHaveBeenApplied` says that a
// request (or a record) may have reached the server although no success was reported.

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

/**
 * A gateway's 502 or 504, or a CDN's 520 (the origin's answer was empty or unreadable) or 524 (the
 * origin took the request and did not answer in time; Cloudflare's codes): it gave up on the
 * server behind it, which may still apply the request (later than anything sent since). A CDN's
 * 521, 522, 523 and 525 say the origin was never reached: nothing is on its way. Public: a
 * caller that keeps its own record of requests (the CLI's journal) tells them apart the same way.
 */
export function gatewayGaveUp(status: number | undefined): boolean {
  return status === 502 || status === 504 || status === 520 || status === 524;
}

/**
 * Whole-request statuses worth another attempt: 408, 429, 500, 502, 503, 504. Other 4xx answers
 * (and 501, 505...) would fail the same way again.
 */
export function shouldRetryStatus(status: number): boolean {
  return (
    status === 408 ||
    status === 429 ||
    status === 500 ||
    status === 502 ||
    status === 503 ||
    status === 504
  );
}

/**
 * Per-record statuses (inside a 207) worth re-sending the record: the request statuses above,
 * any other 5xx, and 0 (the server did not report on the record).
 */
export function shouldRetryRecord(status: number): boolean {
  return status === 0 || status >= 500 || shouldRetryStatus(status);
}

/** Statuses after which every further request would fail the same way: a bulk run stops. */
export function isFatalStatus(status: number): boolean {
  return status === 401 || status === 403;
}

/**
 * Exponential backoff with jitter: retry 0 waits about initialDelayMs, each later retry twice as
 * long, capped at maxDelayMs; the jitter takes up to a quarter off.
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
