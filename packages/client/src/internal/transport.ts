// The one place requests go out: the shared rate limiter, the bearer token, a timeout per
// attempt, retries by the policy in core/retry.ts, one token refresh on 401, redirects refused,
// and answers read whole under a size cap. Both upsertBatch and the raw client come through here.
import {
  AbortError,
  ApiError,
  ConnectionError,
  RequestSetupError,
  ResponseParseError,
  TimeoutError,
  TokenProviderError,
} from "../core/errors.ts";
import type { Logger } from "../core/logger.ts";
import type { Limiter } from "../core/rate-limit.ts";
import {
  type BackoffOptions,
  parseRetryAfter,
  retryDelay,
  shouldRetryStatus,
} from "../core/retry.ts";
import { linkSignal } from "./abort-link.ts";
import { attemptSignal, sleep } from "./timeout.ts";
import type { TokenSource } from "./tokens.ts";

export interface RetryInfo {
  /** 1 for the first retry. */
  retry: number;
  /** Why: an HTTP status, a connection error, a timeout, the token provider, or a 401 refresh. */
  reason: "status" | "connection" | "timeout" | "token" | "token-refresh";
  /** The status that caused it (0 when there was no answer). */
  status: number;
  /** The wait before the next attempt (for a 429, the rate limiter's pause). */
  delayMs: number;
}

/** Per-call overrides of the client's settings. */
export interface RequestOptions {
  signal?: AbortSignal | undefined;
  /** Per attempt, in milliseconds (> 0). */
  timeoutMs?: number | undefined;
  maxRetries?: number | undefined;
  /** Called before each retry (and before the retry after a token refresh). */
  onRetry?: ((info: RetryInfo) => void) | undefined;
}

export interface TransportConfig {
  fetch: typeof globalThis.fetch;
  tokens: TokenSource;
  timeoutMs: number;
  maxRetries: number;
  backoff: BackoffOptions;
  limiter: Limiter;
  logger: Logger;
  /** Largest answer body read, in bytes. */
  maxResponseBytes: number;
}

/** A request ready to go: everything but the bearer token. */
export interface PreparedRequest {
  method: string;
  url: string;
  /** "PUT /vbasoftware/events-batch", for messages and logs (never a query string). */
  what: string;
  headers: Record<string, string>;
  body: string | undefined;
}

/** A received answer, its body read whole. */
export interface Answer {
  status: number;
  statusText: string;
  headers: Headers;
  body: Uint8Array;
  /**
   * True when an earlier attempt of this call may have reached the server (a connection reset
   * or timeout after sending) before this answer came.
   */
  mayHaveBeenApplied: boolean;
}

/** Low-level error codes that mean the request never left the machine (safe to retry, not applied). */
const NOT_SENT_CODES = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "EAI_AGAIN",
  "ENETUNREACH",
  "EHOSTUNREACH",
  "UND_ERR_CONNECT_TIMEOUT",
]);
/** Causes that mean the request could not be built at all: not sent, and resending cannot help. */
const SETUP_CODES = new Set(["ERR_INVALID_URL", "UND_ERR_INVALID_ARG", "UND_ERR_NOT_SUPPORTED"]);
const SETUP_MESSAGES =
  /unknown scheme|not implemented|bad port|invalid header|failed to parse url/i;

function errorCode(error: unknown): string | undefined {
  for (let e: unknown = error, depth = 0; e && depth < 5; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string") return code;
    const inner = (e as { errors?: unknown[] }).errors;
    if (Array.isArray(inner) && inner.length > 0) {
      e = inner[0];
      continue;
    }
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

type FailureKind = "timeout" | "setup" | "not-sent" | "connection";

/** How a rejected fetch failed: before sending (setup, not-sent) or possibly after (connection). */
function failureKind(error: unknown, timedOut: boolean): FailureKind {
  if (timedOut) return "timeout";
  const code = errorCode(error);
  if (code !== undefined && NOT_SENT_CODES.has(code)) return "not-sent";
  if (code !== undefined && SETUP_CODES.has(code)) return "setup";
  const cause = (error as { cause?: unknown } | null)?.cause;
  const message = `${(error as Error | null)?.message ?? ""} ${(cause as Error | undefined)?.message ?? ""}`;
  if (SETUP_MESSAGES.test(message)) return "setup";
  // A TypeError thrown without a cause is a request fetch refused to build (undici wraps every
  // network failure as "fetch failed" with a cause).
  if (error instanceof TypeError && cause === undefined && code === undefined) return "setup";
  return "connection";
}

/** Reads a body whole, refusing more than `max` bytes (the rest is not read). */
export async function readCapped(
  response: Response,
  max: number,
  what: string,
): Promise<Uint8Array> {
  const declared = Number(response.headers.get("content-length"));
  const tooLarge = () =>
    new ResponseParseError(
      `${what}: the HTTP ${response.status} answer is larger than ${max} bytes (maxResponseBytes); it was not read`,
      { status: response.status },
    );
  if (declared > max) {
    await response.body?.cancel().catch(() => undefined);
    throw tooLarge();
  }
  if (response.body === null) return new Uint8Array(0);
  // A declared length within the cap: read it in one go (undici stops at the declared length).
  if (response.headers.has("content-length") && declared >= 0) {
    return new Uint8Array(await response.arrayBuffer());
  }
  const reader = response.body.getReader();
  const parts: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel().catch(() => undefined);
      throw tooLarge();
    }
    parts.push(value);
  }
  if (parts.length === 1) return parts[0] as Uint8Array;
  const out = new Uint8Array(size);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.byteLength;
  }
  return out;
}

export class Transport {
  constructor(private readonly config: TransportConfig) {}

  /** Sends `request`, retrying by the policy; resolves with the final answer (any status). */
  async execute(request: PreparedRequest, options: RequestOptions = {}): Promise<Answer> {
    // One link to the caller's signal for the whole call (its waits, attempts and token);
    // released when the call settles, so the caller's signal keeps no listener of ours.
    const link = linkSignal(options.signal);
    try {
      return await this.attempts(request, options, link.signal);
    } finally {
      link.release();
    }
  }

  private async attempts(
    request: PreparedRequest,
    options: RequestOptions,
    signal: AbortSignal | undefined,
  ): Promise<Answer> {
    const cfg = this.config;
    const maxRetries = options.maxRetries ?? cfg.maxRetries;
    const timeoutMs = options.timeoutMs ?? cfg.timeoutMs;
    const { what } = request;
    const log = cfg.logger;
    const headers = { ...request.headers };

    let retries = 0;
    let refreshed = false;
    let mayHaveBeenApplied = false;
    const aborted = () => new AbortError(`${what} was aborted`, { mayHaveBeenApplied });
    const retryAfterFailure = async (reason: RetryInfo["reason"], note: string) => {
      retries++;
      const delayMs = retryDelay(retries - 1, undefined, cfg.backoff);
      log.warn(`${what}: ${note}; retry ${retries}/${maxRetries} in ${delayMs} ms`);
      options.onRetry?.({ retry: retries, reason, status: 0, delayMs });
      await sleep(delayMs, signal).catch(() => {
        throw aborted();
      });
    };

    for (;;) {
      if (signal?.aborted) throw aborted();
      // A permit at hand is taken without a promise; otherwise wait in the limiter's queue.
      if (!cfg.limiter.tryAcquire?.()) {
        await cfg.limiter.acquire(signal).catch(() => {
          throw aborted();
        });
      }
      const attempt = attemptSignal(signal, timeoutMs);
      let token: string;
      try {
        // The provider runs inside the attempt: its timeout and the caller's signal bound it.
        token = cfg.tokens.peek() ?? (await cfg.tokens.get(attempt.signal));
      } catch (error) {
        attempt.clear();
        if (signal?.aborted) throw aborted();
        // The login was answered with an error (wrong password, 403): retrying cannot help.
        if (error instanceof ApiError) throw error;
        const failure =
          error instanceof TokenProviderError
            ? error
            : new TokenProviderError(
                `the token provider did not answer within ${timeoutMs} ms (timeoutMs)`,
                { cause: error },
              );
        if (retries < maxRetries) {
          await retryAfterFailure("token", failure.message);
          continue;
        }
        log.error(`${what}: ${failure.message}; giving up`);
        throw failure;
      }
      headers.authorization = `Bearer ${token}`;
      log.debug(`${what}: attempt ${retries + 1}`);
      let response: Response;
      let body: Uint8Array;
      try {
        response = await cfg.fetch(request.url, {
          method: request.method,
          headers,
          body: request.body,
          signal: attempt.signal,
          // VBA does not redirect batch calls: a 3xx is reported, never followed with the
          // credentials and the records.
          redirect: "manual",
        });
        // The whole body is read inside the attempt, so the timeout covers it too.
        body = await readCapped(response, cfg.maxResponseBytes, what);
      } catch (error) {
        attempt.clear();
        if (error instanceof ResponseParseError) throw error;
        if (signal?.aborted) {
          throw new AbortError(`${what} was aborted`, { mayHaveBeenApplied: true });
        }
        const kind = failureKind(error, attempt.timedOut());
        const code = kind === "timeout" ? undefined : errorCode(error);
        if (kind === "setup") {
          throw new RequestSetupError(
            `${what}: the request could not be sent (${code ?? (error instanceof Error ? error.name : "unknown error")}); nothing was sent`,
            { cause: error },
          );
        }
        mayHaveBeenApplied ||= kind !== "not-sent";
        const note =
          kind === "timeout"
            ? `timed out after ${timeoutMs} ms`
            : `connection failed (${code ?? "unknown error"})`;
        if (retries < maxRetries) {
          await retryAfterFailure(kind === "timeout" ? "timeout" : "connection", note);
          continue;
        }
        log.error(`${what}: ${note}; giving up`);
        const attempts = `${retries + 1} attempt${retries ? "s" : ""}`;
        if (kind === "timeout") {
          throw new TimeoutError(`${what} timed out after ${timeoutMs} ms (${attempts})`, {
            mayHaveBeenApplied,
            timeoutMs,
          });
        }
        throw new ConnectionError(`${what}: ${note} after ${attempts}`, {
          mayHaveBeenApplied,
          code,
          cause: error,
        });
      }
      attempt.clear();
      // A browser's fetch hides a refused redirect as an "opaqueredirect" with status 0.
      const status = response.type === "opaqueredirect" ? 307 : response.status;

      if (status === 401 && !refreshed && cfg.tokens.refreshable) {
        refreshed = true;
        log.info(`${what}: HTTP 401; refreshing the token and retrying once`);
        await cfg.tokens.invalidate(token);
        options.onRetry?.({ retry: retries, reason: "token-refresh", status, delayMs: 0 });
        continue;
      }
      const retryAfter = parseRetryAfter(response.headers.get("retry-after"));
      if (status === 429) cfg.limiter.backOff(retryAfter, cfg.backoff.maxRetryAfterMs);
      else cfg.limiter.onSuccess();

      if (shouldRetryStatus(status) && retries < maxRetries) {
        retries++;
        // After a 429 the shared limiter already holds every request back; no extra sleep here.
        const delayMs =
          status === 429
            ? cfg.limiter.pausedFor()
            : retryDelay(retries - 1, retryAfter, cfg.backoff);
        log.warn(
          `${what}: HTTP ${status}; retry ${retries}/${maxRetries} in ${Math.round(delayMs)} ms`,
        );
        options.onRetry?.({ retry: retries, reason: "status", status, delayMs });
        if (status !== 429) {
          await sleep(delayMs, signal).catch(() => {
            throw aborted();
          });
        }
        continue;
      }
      if (status >= 400) log.debug(`${what}: HTTP ${status}`);
      return {
        status,
        statusText: response.statusText,
        headers: response.headers,
        body,
        mayHaveBeenApplied,
      };
    }
  }
}
