// The one place requests go out: auth headers, the shared rate limiter, a timeout per attempt,
// retries with backoff, and one token refresh on 401. openapi-fetch calls it as its `fetch`.
import { AbortError, ConfigurationError, ConnectionError, TimeoutError } from "./errors.js";
import type { Logger } from "./logger.js";
import type { RateLimiter } from "./rate-limit.js";
import { type BackoffOptions, isRetryableStatus, parseRetryAfter, retryDelay } from "./retry.js";
import { attemptSignal, sleep } from "./timeout.js";

export type TokenProvider = string | (() => string | Promise<string>);

export interface RetryInfo {
  /** 1 for the first retry. */
  retry: number;
  /** Why: an HTTP status, a connection error, a timeout, or a 401 token refresh. */
  reason: "status" | "connection" | "timeout" | "token-refresh";
  /** The status that caused it (0 when there was no answer). */
  status: number;
  /** The wait before the next attempt (for a 429, the rate limiter's pause). */
  delayMs: number;
}

/** Per-call overrides of the client's settings. */
export interface RequestOptions {
  signal?: AbortSignal | undefined;
  /** Per attempt, in milliseconds. */
  timeoutMs?: number | undefined;
  maxRetries?: number | undefined;
  /** Called before each retry (and before the retry after a token refresh). */
  onRetry?: ((info: RetryInfo) => void) | undefined;
}

export interface TransportConfig {
  fetch: typeof globalThis.fetch;
  apiKey: string | undefined;
  token: TokenProvider | undefined;
  database: string | undefined;
  userAgent: string;
  timeoutMs: number;
  maxRetries: number;
  backoff: BackoffOptions;
  limiter: RateLimiter;
  logger: Logger;
}

/** Errors that happen before a request leaves the machine: nothing can have been applied. */
const NOT_SENT_CODES = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "EAI_AGAIN",
  "ENETUNREACH",
  "EHOSTUNREACH",
  "UND_ERR_CONNECT_TIMEOUT",
  "ERR_INVALID_URL",
]);

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

interface CachedToken {
  promise: Promise<string>;
  /** Set once the provider's promise has resolved (and this entry is still current). */
  value: string | undefined;
}

class TokenCache {
  private current: CachedToken | undefined;

  constructor(private readonly provider: TokenProvider) {}

  get refreshable(): boolean {
    return typeof this.provider === "function";
  }

  /** The token when it is known without waiting, else undefined (then call get()). */
  peek(): string | undefined {
    if (typeof this.provider === "string") return this.provider;
    return this.current?.value;
  }

  get(): Promise<string> {
    if (typeof this.provider === "string") return Promise.resolve(this.provider);
    if (!this.current) {
      const provider = this.provider;
      const pending = Promise.resolve().then(provider);
      const entry: CachedToken = { promise: pending, value: undefined };
      this.current = entry;
      pending.then(
        (value) => {
          entry.value = value;
        },
        // A failed provider call is not cached.
        () => {
          if (this.current === entry) this.current = undefined;
        },
      );
    }
    return this.current.promise;
  }

  /** Drops `used` so the next get() asks the provider again (once, however many callers saw a 401). */
  async invalidate(used: string): Promise<void> {
    const current = this.current;
    if (
      current &&
      (await current.promise.catch(() => undefined)) === used &&
      this.current === current
    ) {
      this.current = undefined;
    }
  }
}

const NULL_BODY = new Set([101, 204, 205, 304]);

/** The answer of {@link Transport.sendJson}: status, headers and the whole body as text. */
export interface JsonAnswer {
  status: number;
  statusText: string;
  headers: Headers;
  text: string;
}

const readBuffer = (response: Response): Promise<ArrayBuffer> => response.arrayBuffer();
const readText = (response: Response): Promise<string> => response.text();

export class Transport {
  private readonly tokens: TokenCache | undefined;

  constructor(private readonly config: TransportConfig) {
    this.tokens = config.token === undefined ? undefined : new TokenCache(config.token);
  }

  /** Throws ConfigurationError when a required setting is missing. */
  checkConfig(): void {
    const missing: string[] = [];
    if (!this.config.apiKey) missing.push("apiKey (or env VBAPI_API_KEY)");
    if (!this.tokens) missing.push("token (or env VBAPI_TOKEN)");
    if (!this.config.database) missing.push("database (or env VBAPI_DATABASE)");
    if (missing.length > 0) {
      throw new ConfigurationError(`createVbapiClient: missing ${missing.join(", ")}`);
    }
  }

  /** A fetch function bound to per-call options, for openapi-fetch's `fetch` option. */
  fetchWith(options: RequestOptions = {}): typeof globalThis.fetch {
    return (input, init) =>
      this.send(
        input instanceof Request && init === undefined ? input : new Request(input, init),
        options,
      );
  }

  async send(request: Request, options: RequestOptions = {}): Promise<Response> {
    this.checkConfig();
    const cfg = this.config;
    // upsertBatch passes its signal in options; a raw-client caller puts it on the Request.
    const signal = options.signal ?? request.signal;
    const body = request.body ? await request.text() : undefined;
    const headers = new Headers(request.headers);
    headers.set("x-api-key", cfg.apiKey as string);
    if (!headers.has("vbasoftware-database"))
      headers.set("vbasoftware-database", cfg.database as string);
    if (!headers.has("user-agent")) headers.set("user-agent", cfg.userAgent);
    if (!headers.has("accept")) headers.set("accept", "application/json");
    const what = `${request.method} ${new URL(request.url).pathname}`;
    const { response, value } = await this.exchange(
      request.method,
      request.url,
      what,
      headers,
      body,
      request.redirect,
      signal,
      options,
      readBuffer,
    );
    const status = response.status;
    return new Response(NULL_BODY.has(status) ? null : value, {
      status,
      statusText: response.statusText,
      headers: response.headers,
    });
  }

  /**
   * The fast path of upsertBatch: a JSON body already serialized, plain headers, and the answer
   * read as text (no WHATWG Request, no second copy of the body). Same auth, rate limit,
   * timeouts and retries as {@link send}.
   */
  async sendJson(
    method: string,
    url: string,
    what: string,
    body: string,
    options: RequestOptions = {},
  ): Promise<JsonAnswer> {
    this.checkConfig();
    const cfg = this.config;
    const headers: Record<string, string> = {
      "content-type": "application/json",
      "x-api-key": cfg.apiKey as string,
      "vbasoftware-database": cfg.database as string,
      "user-agent": cfg.userAgent,
      accept: "application/json",
    };
    const { response, value } = await this.exchange(
      method,
      url,
      what,
      headers,
      body,
      "follow",
      options.signal,
      options,
      readText,
    );
    return {
      status: response.status,
      statusText: response.statusText,
      headers: response.headers,
      text: value,
    };
  }

  private async exchange<T>(
    method: string,
    url: string,
    what: string,
    headers: Headers | Record<string, string>,
    body: string | undefined,
    redirect: RequestRedirect,
    signal: AbortSignal | undefined,
    options: RequestOptions,
    read: (response: Response) => Promise<T>,
  ): Promise<{ response: Response; value: T }> {
    const cfg = this.config;
    const maxRetries = options.maxRetries ?? cfg.maxRetries;
    const timeoutMs = options.timeoutMs ?? cfg.timeoutMs;
    const log = cfg.logger;

    let retries = 0;
    let refreshed = false;
    let mayHaveBeenApplied = false;
    for (;;) {
      // A token at hand is taken without a promise; otherwise wait in the limiter's queue.
      if (signal?.aborted || !cfg.limiter.tryAcquire()) {
        try {
          await cfg.limiter.acquire(signal);
        } catch {
          throw new AbortError(`${what} was aborted`, { mayHaveBeenApplied });
        }
      }
      const tokens = this.tokens as TokenCache;
      const token = tokens.peek() ?? (await tokens.get());
      if (headers instanceof Headers) headers.set("authorization", `Bearer ${token}`);
      else headers.authorization = `Bearer ${token}`;
      const attempt = attemptSignal(signal, timeoutMs);
      let response: Response;
      let value: T;
      log.debug(`${what}: attempt ${retries + 1}`);
      try {
        response = await cfg.fetch(url, {
          method,
          headers,
          body,
          signal: attempt.signal,
          redirect,
        });
        // Read the whole body inside the attempt, so the timeout covers it too.
        value = await read(response);
      } catch (error) {
        attempt.clear();
        if (signal?.aborted)
          throw new AbortError(`${what} was aborted`, { mayHaveBeenApplied: true });
        const timedOut = attempt.timedOut();
        const code = timedOut ? undefined : errorCode(error);
        const sent = timedOut || code === undefined || !NOT_SENT_CODES.has(code);
        mayHaveBeenApplied ||= sent;
        if (retries < maxRetries) {
          retries++;
          const delayMs = retryDelay(retries - 1, undefined, cfg.backoff);
          const reason = timedOut ? "timeout" : "connection";
          log.warn(
            `${what}: ${timedOut ? `timed out after ${timeoutMs} ms` : `connection failed (${code ?? "unknown"})`}; retry ${retries}/${maxRetries} in ${delayMs} ms`,
          );
          options.onRetry?.({ retry: retries, reason, status: 0, delayMs });
          await this.wait(delayMs, signal, what, mayHaveBeenApplied);
          continue;
        }
        if (timedOut) {
          log.error(`${what}: timed out after ${timeoutMs} ms; giving up`);
          throw new TimeoutError(
            `${what} timed out after ${timeoutMs} ms (${retries + 1} attempt${retries ? "s" : ""})`,
            {
              mayHaveBeenApplied,
              timeoutMs,
            },
          );
        }
        log.error(`${what}: connection failed (${code ?? "unknown"}); giving up`);
        throw new ConnectionError(
          `${what}: connection failed (${code ?? "unknown error"}) after ${retries + 1} attempt${retries ? "s" : ""}`,
          {
            mayHaveBeenApplied,
            code,
          },
        );
      }
      attempt.clear();
      const status = response.status;

      if (status === 401 && !refreshed && this.tokens?.refreshable) {
        refreshed = true;
        log.info(`${what}: HTTP 401; refreshing the token and retrying once`);
        await this.tokens.invalidate(token);
        options.onRetry?.({ retry: retries, reason: "token-refresh", status, delayMs: 0 });
        continue;
      }
      if (status === 429)
        cfg.limiter.backOff(
          parseRetryAfter(response.headers.get("retry-after")),
          cfg.backoff.maxRetryAfterMs,
        );
      else cfg.limiter.onSuccess();

      if (isRetryableStatus(status) && retries < maxRetries) {
        retries++;
        const retryAfter = parseRetryAfter(response.headers.get("retry-after"));
        // After a 429 the shared limiter already holds every request back; no extra sleep here.
        const delayMs =
          status === 429
            ? cfg.limiter.pausedFor()
            : retryDelay(retries - 1, retryAfter, cfg.backoff);
        log.warn(
          `${what}: HTTP ${status}; retry ${retries}/${maxRetries} in ${Math.round(delayMs)} ms`,
        );
        options.onRetry?.({ retry: retries, reason: "status", status, delayMs });
        if (status !== 429) await this.wait(delayMs, signal, what, mayHaveBeenApplied);
        continue;
      }
      if (status >= 400) log.debug(`${what}: HTTP ${status}`);
      return { response, value };
    }
  }

  private async wait(
    ms: number,
    signal: AbortSignal | undefined,
    what: string,
    mayHaveBeenApplied: boolean,
  ) {
    try {
      await sleep(ms, signal);
    } catch {
      throw new AbortError(`${what} was aborted`, { mayHaveBeenApplied });
    }
  }
}
