// The one place requests go out: the shared rate limiter, the bearer token, a timeout per
// attempt, retries by the policy in core/retry.ts, one token refresh on 401, redirects refused,
// and answers read whole under a size cap. Both upsertBatch and the raw client come through here.

import { linkSignal } from "../base/abort-link.ts";
import {
  AbortError,
  ApiError,
  ConnectionError,
  RequestSetupError,
  ResponseParseError,
  TimeoutError,
  TokenProviderError,
} from "../base/errors.ts";
import { describeNetworkFailure, errorCode, failureKind } from "../base/failure.ts";
import type { Logger } from "../base/logger.ts";
import {
  type BackoffOptions,
  parseRetryAfter,
  retryDelay,
  shouldRetryStatus,
} from "../base/retry.ts";
import { attemptSignal, sleep } from "../base/timeout.ts";
import type { Limiter } from "./rate-limit.ts";
import { readCapped } from "./read-capped.ts";
import {
  type AttemptInfo,
  type Context,
  context,
  errorType,
  type Span,
  type Telemetry,
  trace,
} from "./telemetry.ts";
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
  /** Spans and metrics; undefined when switched off. */
  telemetry?: Telemetry | undefined;
}

/** What the SDK's own request paths add to a request's options. */
export interface InternalRequestOptions extends RequestOptions {
  /** The parent of the attempt spans (the upsertBatch span). */
  traceContext?: Context | undefined;
  /**
   * Called with the answer that will be returned, before its attempt span ends; what it returns
   * is added to that span (the outcome the caller reads from the answer).
   */
  onAnswer?: ((answer: Answer) => Record<string, string | number> | undefined) | undefined;
}

/** A request ready to go: everything but the bearer token. */
export interface PreparedRequest {
  method: string;
  url: string;
  /** "PUT /vbasoftware/events-batch", for messages and logs (never a query string). */
  what: string;
  headers: Record<string, string>;
  body: string | undefined;
  /** The spec's path template (`/tolerances-batch`), for spans and metrics. Default: the path. */
  template?: string;
  /** vbapi.* span attributes of the request (entity, records, database). */
  attributes?: Record<string, string | number>;
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

/** The parts of the last URL seen (a client sends to a handful of URLs: parse each once). */
let lastUrl: { url: string; href: string; port: number; host: string; path: string } | undefined;

/** A request as its attempt spans describe it (never its headers or body). */
function attemptInfo(request: PreparedRequest): AttemptInfo {
  if (lastUrl?.url !== request.url) {
    const url = new URL(request.url);
    const port = Number(url.port || (url.protocol === "https:" ? 443 : 80));
    // url.full never carries credentials (the HTTP semantic conventions; the client refuses them).
    url.username = "";
    url.password = "";
    lastUrl = { url: request.url, href: url.href, port, host: url.hostname, path: url.pathname };
  }
  const { href, port, host, path } = lastUrl;
  return {
    method: request.method,
    url: href,
    port,
    template: request.template ?? path,
    host,
    ...(request.attributes && { attributes: request.attributes }),
  };
}

/** The host (and port) of a URL, for messages. */
function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return "the server";
  }
}

export class Transport {
  constructor(private readonly config: TransportConfig) {}

  /** Sends `request`, retrying by the policy; resolves with the final answer (any status). */
  async execute(request: PreparedRequest, options: InternalRequestOptions = {}): Promise<Answer> {
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
    options: InternalRequestOptions,
    signal: AbortSignal | undefined,
  ): Promise<Answer> {
    const cfg = this.config;
    const tel = cfg.telemetry;
    const parent = options.traceContext;
    const parentSpan = tel && parent ? trace.getSpan(parent) : undefined;
    const info: AttemptInfo | undefined = tel && attemptInfo(request);
    let span: Span | undefined;
    let startedAt = 0;
    const maxRetries = options.maxRetries ?? cfg.maxRetries;
    const timeoutMs = options.timeoutMs ?? cfg.timeoutMs;
    const { what } = request;
    const log = cfg.logger;
    const headers = { ...request.headers };

    let retries = 0;
    let refreshed = false;
    let mayHaveBeenApplied = false;
    // The caller's reason (`controller.abort(reason)`) is the error's cause.
    const aborted = () =>
      new AbortError(`${what} was aborted`, { mayHaveBeenApplied, cause: signal?.reason });
    const retryAfterFailure = async (reason: RetryInfo["reason"], note: string) => {
      retries++;
      const delayMs = retryDelay(retries - 1, undefined, cfg.backoff);
      log.warn(`${what}: ${note}; retry ${retries}/${maxRetries} in ${delayMs} ms`);
      options.onRetry?.({ retry: retries, reason, status: 0, delayMs });
      parentSpan?.addEvent("vbapi.retry", {
        "vbapi.retry": retries,
        "vbapi.retry.reason": reason,
        "vbapi.retry.delay_ms": delayMs,
      });
      await sleep(delayMs, signal).catch(() => {
        throw aborted();
      });
    };

    for (;;) {
      if (signal?.aborted) throw aborted();
      // A permit at hand is taken without a promise; otherwise wait in the limiter's queue.
      if (!cfg.limiter.tryAcquire?.()) {
        const waitStart = performance.now();
        await cfg.limiter.acquire(signal).catch(() => {
          throw aborted();
        });
        parentSpan?.addEvent("vbapi.rate_limiter.wait", {
          "vbapi.wait_ms": Math.round(performance.now() - waitStart),
        });
      }
      const attempt = attemptSignal(signal, timeoutMs);
      let token: string;
      try {
        // The provider runs inside the attempt: its timeout and the caller's signal bound it.
        // A login it causes is a child of the caller's span (where a context manager runs).
        token =
          cfg.tokens.peek() ??
          (await (parent
            ? context.with(parent, () => cfg.tokens.get(attempt.signal))
            : cfg.tokens.get(attempt.signal)));
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
        // A provider that retried the failure itself (the login) is not retried again here.
        if (retries < maxRetries && !failure.retried) {
          await retryAfterFailure("token", failure.message);
          continue;
        }
        log.error(`${what}: ${failure.message}; giving up`);
        throw failure;
      }
      headers.authorization = `Bearer ${token}`;
      if (tel && info) {
        span = tel.startAttempt(info, retries + (refreshed ? 1 : 0), parent);
        startedAt = performance.now();
        tel.inject(span, parent, headers);
      }
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
        if (span && info) {
          const type =
            error instanceof ResponseParseError
              ? "response_too_large"
              : attempt.timedOut()
                ? "timeout"
                : (errorCode(error) ?? errorType(error));
          tel?.endAttempt(span, info, startedAt, undefined, type);
        }
        if (error instanceof ResponseParseError) throw error;
        const kind = failureKind(error, attempt.timedOut());
        if (signal?.aborted) {
          // A request that never left the machine (its host unreachable) was not applied.
          throw new AbortError(`${what} was aborted`, {
            mayHaveBeenApplied: mayHaveBeenApplied || kind !== "not-sent",
            cause: signal.reason,
          });
        }
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
            : `cannot reach ${hostOf(request.url)}: ${describeNetworkFailure(error).words}`;
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

      const retrying =
        (status === 401 && !refreshed && cfg.tokens.refreshable) ||
        (shouldRetryStatus(status) && retries < maxRetries);
      if (span && info && retrying) tel?.endAttempt(span, info, startedAt, status, undefined);
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
        parentSpan?.addEvent("vbapi.retry", {
          "vbapi.retry": retries,
          "vbapi.retry.reason": "status",
          "http.response.status_code": status,
          "vbapi.retry.delay_ms": Math.round(delayMs),
        });
        if (status !== 429) {
          await sleep(delayMs, signal).catch(() => {
            throw aborted();
          });
        }
        continue;
      }
      if (status >= 400) log.debug(`${what}: HTTP ${status}`);
      const answer: Answer = {
        status,
        statusText: response.statusText,
        headers: response.headers,
        body,
        mayHaveBeenApplied,
      };
      const outcome = options.onAnswer?.(answer);
      if (span && info) tel?.endAttempt(span, info, startedAt, status, undefined, outcome);
      return answer;
    }
  }
}
