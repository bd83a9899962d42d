// The client's options, resolved (environment defaults) and checked once, at construction.
// Everything wrong with them is a ConfigurationError naming the option; nothing is re-checked
// per request except what cannot be known up front (a missing credential is reported when the
// first request needs it, so a client can be built before the environment is complete).

import {
  DEFAULT_BASE_URL,
  DEFAULT_MAX_RESPONSE_BYTES,
  defaultUserAgent,
  env,
} from "../base/defaults.ts";
import { ConfigurationError } from "../base/errors.ts";
import { isHeaderSafe } from "../base/headers.ts";
import type { Logger, LogLevel } from "../base/logger.ts";
import { type BackoffOptions, DEFAULT_BACKOFF } from "../base/retry.ts";
import { AT_MOST_LONGEST_TIMER, MAX_TIMER_MS } from "../base/timeout.ts";
import {
  DEFAULT_RATE_LIMIT,
  type Limiter,
  type RateLimitOptions,
} from "../transport/rate-limit.ts";
import { checkTelemetry, type TelemetryOptions } from "../transport/telemetry.ts";
import type { TokenProvider } from "../transport/tokens.ts";

export interface VbapiClientOptions extends TelemetryOptions {
  /** Default `https://vbapi.vbasoftware.com/vbasoftware`. Must be http(s). */
  baseUrl?: string;
  /** Sent as `x-api-key`. Default: env VBAPI_API_KEY. */
  apiKey?: string;
  /**
   * The bearer JWT (VBA's `idToken`), or a function returning it. A function's result is cached;
   * on a 401 it is called again and the request retried once. The function runs inside the
   * attempt's timeout and the caller's signal. Default: env VBAPI_TOKEN.
   */
  token?: TokenProvider;
  /** Sent as `vbasoftware-database` on every call. Default: env VBAPI_DATABASE. */
  database?: string;
  /** Default `vbapi-sdk/<version> node/<version>` (VBA answers 403 without a User-Agent). */
  userAgent?: string;
  /** Per attempt, > 0; default 30 000. */
  timeoutMs?: number;
  /** Retries after the first attempt (see core/retry.ts for which failures); default 2. */
  maxRetries?: number;
  /** Backoff tuning (defaults: 500 ms initial, 8 s cap, Retry-After honoured up to 60 s). */
  backoff?: Partial<BackoffOptions>;
  /**
   * The client's own token bucket: default 25/s, burst 45 (VBA allows 50: five are kept in hand
   * against jitter). `false` removes the cap. Ignored when `limiter` is given.
   */
  rateLimit?: RateLimitOptions | false;
  /** A limiter shared with other clients or processes (e.g. `@vbapi-sdk/redis`). */
  limiter?: Limiter;
  /** Largest answer body read, in bytes; default 32 MiB. */
  maxResponseBytes?: number;
  /** A custom fetch (tests, proxies, instrumentation). */
  fetch?: typeof globalThis.fetch;
  /**
   * An undici Dispatcher for every request (passed to `fetch` as `init.dispatcher`), e.g.
   * `new EnvHttpProxyAgent()` to honour HTTPS_PROXY / HTTP_PROXY / NO_PROXY. Typed `unknown`
   * so the SDK does not depend on undici. A `passwordLogin` token takes its own.
   */
  dispatcher?: unknown;
  /** Default: console. */
  logger?: Logger;
  /** Default "warn". */
  logLevel?: LogLevel;
}

export interface ResolvedConfig {
  baseUrl: string;
  apiKey: string | undefined;
  token: TokenProvider | undefined;
  database: string | undefined;
  userAgent: string;
  timeoutMs: number;
  maxRetries: number;
  backoff: BackoffOptions;
  rateLimit: RateLimitOptions | false;
  limiter: Limiter | undefined;
  maxResponseBytes: number;
  fetch: typeof globalThis.fetch;
  logger: Logger;
  logLevel: LogLevel;
  telemetry: TelemetryOptions;
}

/** Per attempt (VBA recommends 30 s). */
export const DEFAULT_TIMEOUT_MS = 30_000;
/** Retries after the first attempt. */
export const DEFAULT_MAX_RETRIES = 2;
export const DEFAULT_LOG_LEVEL: LogLevel = "warn";

const LOG_LEVELS: readonly LogLevel[] = ["debug", "info", "warn", "error", "off"];

function fail(message: string): never {
  throw new ConfigurationError(`createVbapiClient: ${message}`);
}

/** A header value option: undefined, or a non-empty string a header can carry. Never echoed. */
function headerValue(name: string, value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "string") fail(`${name} must be a string`);
  if (value === "") fail(`${name} must not be empty`);
  if (!isHeaderSafe(value)) {
    fail(
      `${name} holds characters an HTTP header cannot carry (line breaks, control characters, non-Latin-1, or surrounding spaces)`,
    );
  }
  return value;
}

/** A delay option: a number of milliseconds from 0 to the longest timer. */
function nonNegative(name: string, value: unknown): number {
  if (typeof value !== "number" || !(value >= 0) || !(value <= MAX_TIMER_MS)) {
    fail(`${name} must be a number >= 0 and ${AT_MOST_LONGEST_TIMER}`);
  }
  return value;
}

export function resolveConfig(options: VbapiClientOptions): ResolvedConfig {
  if (typeof options !== "object" || options === null) fail("options must be an object");
  const rawBase = options.baseUrl ?? DEFAULT_BASE_URL;
  let base: URL;
  try {
    base = new URL(String(rawBase));
  } catch {
    fail("baseUrl is not a valid URL");
  }
  if (base.protocol !== "https:" && base.protocol !== "http:") {
    fail(`baseUrl must be http or https (got ${base.protocol})`);
  }
  if (base.username || base.password) fail("baseUrl must not hold credentials");
  if (base.search || base.hash) fail("baseUrl must not have a query or fragment");

  const apiKey = headerValue("apiKey", options.apiKey ?? env("VBAPI_API_KEY"));
  const database = headerValue("database", options.database ?? env("VBAPI_DATABASE"));
  const userAgent = headerValue("userAgent", options.userAgent) ?? defaultUserAgent();
  const token = options.token ?? env("VBAPI_TOKEN");
  if (typeof token === "string") headerValue("token", token);
  else if (token !== undefined && typeof token !== "function") {
    fail("token must be a string or a function returning one");
  }

  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  checkTimeout("createVbapiClient", timeoutMs);
  const maxRetries = options.maxRetries ?? DEFAULT_MAX_RETRIES;
  if (!Number.isInteger(maxRetries) || maxRetries < 0) fail("maxRetries must be an integer >= 0");
  const backoff = { ...DEFAULT_BACKOFF };
  for (const name of Object.keys(options.backoff ?? {}) as (keyof BackoffOptions)[]) {
    if (!(name in DEFAULT_BACKOFF)) fail(`backoff.${String(name)} is not a backoff option`);
    backoff[name] = nonNegative(`backoff.${name}`, options.backoff?.[name]);
  }
  const maxResponseBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  if (!Number.isInteger(maxResponseBytes) || maxResponseBytes < 1) {
    fail("maxResponseBytes must be an integer >= 1");
  }
  const rateLimit = options.rateLimit ?? DEFAULT_RATE_LIMIT;
  if (rateLimit !== false) {
    if (typeof rateLimit !== "object" || rateLimit === null) {
      fail("rateLimit must be { requestsPerSecond, burst } or false");
    }
    if (!(rateLimit.requestsPerSecond > 0) || !(rateLimit.burst >= 1)) {
      fail("rateLimit needs requestsPerSecond > 0 and burst >= 1");
    }
  }
  const limiter = options.limiter;
  if (limiter !== undefined) {
    for (const method of ["acquire", "backOff", "onSuccess", "pausedFor", "stats"] as const) {
      if (typeof limiter?.[method] !== "function") fail(`limiter must have a ${method}() method`);
    }
  }
  const givenFetch = options.fetch ?? globalThis.fetch;
  if (typeof givenFetch !== "function") fail("fetch must be a function");
  const dispatcher = options.dispatcher;
  if (dispatcher !== undefined && (typeof dispatcher !== "object" || dispatcher === null)) {
    fail("dispatcher must be an undici Dispatcher (an object), e.g. new EnvHttpProxyAgent()");
  }
  const fetchFn: typeof globalThis.fetch =
    dispatcher === undefined
      ? givenFetch
      : (input, init) => givenFetch(input, { ...init, dispatcher } as RequestInit);
  const logLevel = options.logLevel ?? DEFAULT_LOG_LEVEL;
  if (!LOG_LEVELS.includes(logLevel)) fail(`logLevel must be one of ${LOG_LEVELS.join(", ")}`);
  const logger = options.logger ?? console;
  for (const level of ["debug", "info", "warn", "error"] as const) {
    if (typeof logger?.[level] !== "function") fail(`logger must have a ${level}() method`);
  }
  const telemetry = checkTelemetry(options, fail);
  return {
    baseUrl: base.href.replace(/\/+$/, ""),
    apiKey,
    token,
    database,
    userAgent,
    timeoutMs,
    maxRetries,
    backoff,
    rateLimit,
    limiter,
    maxResponseBytes,
    fetch: fetchFn,
    logger,
    logLevel,
    telemetry,
  };
}

/** Throws ConfigurationError naming every missing credential (checked when a request needs them). */
export function checkCredentials(config: ResolvedConfig): void {
  const missing: string[] = [];
  if (!config.apiKey) missing.push("apiKey (or env VBAPI_API_KEY)");
  if (!config.token) {
    missing.push("token (or env VBAPI_TOKEN, or VBAPI_USERNAME and VBAPI_PASSWORD to log in)");
  }
  if (!config.database) missing.push("database (or env VBAPI_DATABASE)");
  if (missing.length > 0) fail(`missing ${missing.join(", ")}`);
}

/** The longest timer Node and browsers keep (a longer one fires after 1 ms). */

/** A timeout: undefined, or a number > 0 and at most MAX_TIMER_MS (about 24.8 days). */
export function checkTimeout(where: string, timeoutMs: unknown): void {
  if (timeoutMs === undefined) return;
  if (typeof timeoutMs !== "number" || !(timeoutMs > 0) || !(timeoutMs <= MAX_TIMER_MS)) {
    throw new ConfigurationError(
      `${where}: timeoutMs must be a number > 0 and ${AT_MOST_LONGEST_TIMER}`,
    );
  }
}
