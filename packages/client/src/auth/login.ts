// VBA's login (`POST /user-authentication`) as a token provider: logs in lazily, once for any
// number of concurrent callers (and, with a shared cache that can lock, once for any number of
// processes), caches the ID token for its measured lifetime (token-life.ts), renews ahead of
// time without blocking callers that still hold a valid token, and renews once after a 401.

import {
  DEFAULT_BASE_URL,
  DEFAULT_MAX_RESPONSE_BYTES,
  defaultUserAgent,
  env,
  SDK_VERSION,
} from "../base/defaults.ts";
import {
  AbortError,
  apiErrorFromAnswer,
  ConfigurationError,
  ConnectionError,
  ResponseParseError,
  VbapiError,
} from "../base/errors.ts";
import { describeNetworkFailure, errorCode } from "../base/failure.ts";
import { isHeaderSafe } from "../base/headers.ts";
import { base64, redact } from "../base/redact.ts";
import {
  type BackoffOptions,
  parseRetryAfter,
  retryDelay,
  shouldRetryStatus,
} from "../base/retry.ts";
import { AT_MOST_LONGEST_TIMER, MAX_TIMER_MS, sleep } from "../base/timeout.ts";
import { readCapped } from "../transport/read-capped.ts";
import {
  type AttemptInfo,
  checkTelemetry,
  createTelemetry,
  type TelemetryOptions,
} from "../transport/telemetry.ts";
import { memoryTokenCache, type StoredToken, type TokenCache } from "./token-cache.ts";
import { measureToken, renewalTime, usableUntil, withLifetime } from "./token-life.ts";

export interface PasswordLoginOptions extends TelemetryOptions {
  /** Default: env VBAPI_USERNAME. */
  username?: string;
  /** Default: env VBAPI_PASSWORD. Never logged, never in an error. */
  password?: string;
  /** Sent as `vbasoftware-client-id`. Default: env VBAPI_CLIENT_ID. */
  clientId?: string;
  /** Sent as `vbasoftware-client-code`. Default: env VBAPI_CLIENT_CODE. */
  clientCode?: string;
  /** Sent as `vbasoftware-database`. Default: env VBAPI_DATABASE. */
  database?: string;
  /** Sent as `x-api-key`. Default: env VBAPI_API_KEY. */
  apiKey?: string;
  /** Default `https://vbapi.vbasoftware.com/vbasoftware` (the client's). */
  baseUrl?: string;
  userAgent?: string;
  fetch?: typeof globalThis.fetch;
  /**
   * An undici Dispatcher for the login's requests (passed to `fetch` as `init.dispatcher`),
   * e.g. `new EnvHttpProxyAgent()` to honour HTTPS_PROXY / HTTP_PROXY / NO_PROXY. Typed
   * `unknown` so the SDK does not depend on undici.
   */
  dispatcher?: unknown;
  /** Where the token is kept between calls (and processes). Default: in memory. */
  cache?: TokenCache;
  /**
   * Renew this long before the token expires, at most half its lifetime (so short-lived tokens
   * are renewed at half-life). Default 5 minutes (VBA's guidance). The lifetime is measured:
   * `exp - iat` from when the answer arrived, not `exp` against this machine's clock.
   */
  renewBeforeMs?: number;
  /** Per login request. Default 30 000. */
  timeoutMs?: number;
  /** Login attempts after a 429 or a connection failure. Default 4. */
  maxRetries?: number;
  /** Cap on one wait after a 429 (Retry-After, or 1 s doubling). Default 60 000. */
  maxRetryAfterMs?: number;
  /**
   * Stops this provider's logins: once aborted, a login in flight (its request or its backoff
   * wait) ends at once with an AbortError (the reason as its `cause`), makes no further attempt
   * and releases the cache's lock; later calls reject the same way without a request.
   */
  signal?: AbortSignal;
}

/** A token provider that logs in: pass it as `createVbapiClient({ token })`. */
export interface LoginTokenProvider {
  (): Promise<string>;
  /** Drops `token` (the client calls this after a 401) so the next call logs in again. */
  invalidate(token: string): Promise<void>;
  /** Values that must never be written anywhere (the password, the API key). */
  readonly secrets: readonly string[];
}

const LOCK_TTL_MS = 60_000;

async function sha256(text: string): Promise<string> {
  const digest = await globalThis.crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

export function passwordLogin(options: PasswordLoginOptions = {}): LoginTokenProvider {
  const fail = (message: string): never => {
    throw new ConfigurationError(`passwordLogin: ${message}`);
  };
  const field = (name: string, value: string | undefined, envName: string): string => {
    const v = value ?? env(envName);
    if (v === undefined || v === "") return fail(`${name} is missing (or env ${envName})`);
    if (typeof v !== "string") return fail(`${name} must be a string`);
    if (name !== "password" && !isHeaderSafe(v))
      fail(`${name} holds characters a header cannot carry`);
    return v;
  };
  const username = field("username", options.username, "VBAPI_USERNAME");
  const password = field("password", options.password, "VBAPI_PASSWORD");
  const clientId = field("clientId", options.clientId, "VBAPI_CLIENT_ID");
  const clientCode = field("clientCode", options.clientCode, "VBAPI_CLIENT_CODE");
  const database = field("database", options.database, "VBAPI_DATABASE");
  const apiKey = field("apiKey", options.apiKey, "VBAPI_API_KEY");
  if (username.includes(":")) fail("username must not contain ':' (HTTP Basic cannot carry it)");
  let base: URL | undefined;
  try {
    base = new URL(String(options.baseUrl ?? DEFAULT_BASE_URL));
  } catch {}
  if (base === undefined || (base.protocol !== "https:" && base.protocol !== "http:")) {
    fail("baseUrl must be an http or https URL");
  }
  // As the client's: credentials in a URL would be sent, logged and traced (never echoed here).
  if ((base as URL).username || (base as URL).password) fail("baseUrl must not hold credentials");
  if ((base as URL).search || (base as URL).hash) fail("baseUrl must not have a query or fragment");
  const baseUrl = (base as URL).href.replace(/\/+$/, "");
  const fetchFn = options.fetch ?? globalThis.fetch;
  if (typeof fetchFn !== "function") fail("fetch must be a function");
  const dispatcher = options.dispatcher;
  if (dispatcher !== undefined && (typeof dispatcher !== "object" || dispatcher === null)) {
    fail("dispatcher must be an undici Dispatcher (an object), e.g. new EnvHttpProxyAgent()");
  }
  const signal = options.signal;
  const signalLike = signal as { aborted?: unknown; addEventListener?: unknown } | undefined;
  if (
    signal !== undefined &&
    (typeof signalLike?.aborted !== "boolean" || typeof signalLike.addEventListener !== "function")
  ) {
    fail("signal must be an AbortSignal");
  }
  const cache = options.cache ?? memoryTokenCache();
  if (typeof cache?.get !== "function" || typeof cache.set !== "function") {
    fail("cache must have get() and set() methods");
  }
  const number = (
    name: string,
    value: number | undefined,
    fallback: number,
    min: number,
    max = Number.MAX_SAFE_INTEGER,
  ) => {
    const n = value ?? fallback;
    if (typeof n !== "number" || !Number.isFinite(n) || n < min || n > max) {
      fail(
        max === MAX_TIMER_MS
          ? `${name} must be a number >= ${min} and ${AT_MOST_LONGEST_TIMER}`
          : `${name} must be a finite number >= ${min}`,
      );
    }
    return n;
  };
  const renewBeforeMs = number("renewBeforeMs", options.renewBeforeMs, 5 * 60_000, 0);
  // A whole number of ms: AbortSignal.timeout takes no fraction.
  const timeoutMs = Math.ceil(number("timeoutMs", options.timeoutMs, 30_000, 1, MAX_TIMER_MS));
  const maxRetries = Math.floor(number("maxRetries", options.maxRetries, 4, 0));
  const maxRetryAfterMs = number(
    "maxRetryAfterMs",
    options.maxRetryAfterMs,
    60_000,
    0,
    MAX_TIMER_MS,
  );
  // The client's backoff policy, starting at a second: logging in too often is rate limited.
  const backoff: BackoffOptions = {
    initialDelayMs: 1_000,
    maxDelayMs: maxRetryAfterMs,
    maxRetryAfterMs,
  };
  const userAgent = options.userAgent ?? defaultUserAgent();
  if (!isHeaderSafe(userAgent)) fail("userAgent holds characters a header cannot carry");
  const authorization = `Basic ${base64(`${username}:${password}`)}`;
  // The client code too: VBA pairs it with the client id to name the account.
  const secrets = [password, apiKey, authorization.slice(6), clientCode];
  const scrub = (text: string) => redact(text, secrets);
  const url = `${baseUrl}/user-authentication`;
  // Each login request is an HTTP client span (`POST /user-authentication`) and counts in vbapi.logins.
  const telemetry = createTelemetry(checkTelemetry(options, fail), SDK_VERSION);
  const loginUrl = new URL(url);
  const spanInfo: AttemptInfo = {
    method: "POST",
    url: loginUrl.href,
    port: Number(loginUrl.port || (loginUrl.protocol === "https:" ? 443 : 80)),
    template: "/user-authentication",
    host: loginUrl.hostname,
  };
  // One cache entry per login identity; the key is a hash, never the credentials.
  const cacheKey = sha256(
    `${baseUrl}\n${apiKey}\n${username}\n${clientId}\n${clientCode}\n${database}`,
  ).then((hash) => `login:${hash}`);

  type Held = StoredToken & { lifetimeMs: number };
  let current: Held | undefined;
  let inFlight: Promise<Held> | undefined;
  /**
   * The last failed login, shared by every caller: until `until` (performance.now() ms) no login
   * is tried again and callers that need one get its error at once, so a failing login server
   * (or a wrong password) sees one attempt per backoff step, never one per call.
   */
  let failure: { error: unknown; until: number; streak: number } | undefined;
  const failing = () => failure !== undefined && performance.now() < failure.until;

  const aborted = () =>
    new AbortError("POST /user-authentication was aborted", {
      mayHaveBeenApplied: false,
      cause: signal?.reason,
    });
  /** Waits `ms`, or throws an AbortError as soon as the signal aborts. */
  const wait = (ms: number) => sleep(ms, signal).catch(() => Promise.reject(aborted()));

  async function requestToken(): Promise<Held> {
    for (let attempt = 0; ; attempt++) {
      if (signal?.aborted) throw aborted();
      let response: Response;
      let body: Uint8Array;
      // The token's lifetime is counted from here: it cannot have been issued any earlier.
      const sentAt = Date.now();
      const span = telemetry?.startAttempt(spanInfo, attempt);
      const startedAt = performance.now();
      const endSpan = (status: number | undefined, errorType?: string) => {
        if (span) telemetry?.endAttempt(span, spanInfo, startedAt, status, errorType);
      };
      try {
        response = await fetchFn(url, {
          method: "POST",
          headers: {
            "x-api-key": apiKey,
            authorization,
            "vbasoftware-client-id": clientId,
            "vbasoftware-client-code": clientCode,
            "vbasoftware-database": database,
            "user-agent": userAgent,
            accept: "application/json",
          },
          redirect: "manual",
          signal: signal
            ? AbortSignal.any([AbortSignal.timeout(timeoutMs), signal])
            : AbortSignal.timeout(timeoutMs),
          ...(dispatcher !== undefined && { dispatcher }),
        } as RequestInit);
        // Bounded like every answer: a login answer over the cap is refused unread.
        body = await readCapped(response, DEFAULT_MAX_RESPONSE_BYTES, "POST /user-authentication");
      } catch (error) {
        endSpan(undefined, error instanceof Error ? error.name : "unknown");
        if (signal?.aborted) throw aborted();
        if (error instanceof ResponseParseError) {
          telemetry?.countLogin("failed");
          throw error;
        }
        if (attempt < maxRetries) {
          await wait(retryDelay(attempt, undefined, backoff));
          continue;
        }
        telemetry?.countLogin("failed");
        const timedOut = error instanceof Error && error.name === "TimeoutError";
        const why = timedOut
          ? `no answer within ${timeoutMs} ms`
          : describeNetworkFailure(error).words;
        const attempts = `${attempt + 1} attempt${attempt ? "s" : ""}`;
        throw new ConnectionError(
          `POST /user-authentication: cannot reach ${loginUrl.host}: ${why} after ${attempts}`,
          {
            mayHaveBeenApplied: false,
            code: timedOut ? undefined : errorCode(error),
            cause: error,
          },
        );
      }
      const arrivedAt = Date.now();
      endSpan(response.status);
      if (shouldRetryStatus(response.status) && attempt < maxRetries) {
        // Logging in too often is itself rate limited (429), and VBA may be briefly down (408,
        // 5xx): wait as told (Retry-After) or back off, then try again.
        await wait(
          retryDelay(attempt, parseRetryAfter(response.headers.get("retry-after")), backoff),
        );
        continue;
      }
      const text = new TextDecoder().decode(body);
      if (response.status < 200 || response.status > 299) {
        telemetry?.countLogin("failed");
        throw apiErrorFromAnswer(response, text, "POST /user-authentication", url, scrub);
      }
      let idToken: unknown;
      try {
        idToken = (JSON.parse(text) as { data?: { authenticationResult?: { idToken?: unknown } } })
          .data?.authenticationResult?.idToken;
      } catch {}
      if (typeof idToken !== "string" || idToken === "" || !isHeaderSafe(idToken)) {
        telemetry?.countLogin("failed");
        throw new VbapiError(
          "POST /user-authentication: the answer has no usable data.authenticationResult.idToken",
        );
      }
      telemetry?.countLogin("succeeded");
      const { source: _, ...measured } = measureToken(
        idToken,
        sentAt,
        arrivedAt,
        response.headers.get("date"),
      );
      return measured;
    }
  }

  /** Not yet time to renew: no login needed. */
  const fresh = (token: Held, now: number): boolean => now < renewalTime(token, renewBeforeMs);

  /** Logs in once (per process; per cache when it can lock), unless the cache already holds a fresh token. */
  function renew(): Promise<Held> {
    if (signal?.aborted) return Promise.reject(aborted());
    if (failing()) return Promise.reject(failure?.error);
    inFlight ??= (async () => {
      // A caller that waited on the cache while another renewal finished finds its token here.
      if (current !== undefined && fresh(current, Date.now())) return current;
      const key = await cacheKey;
      const fromCacheOrLogin = async (): Promise<Held> => {
        // Another process (or renewal) may have logged in meanwhile; a token that a 401 made
        // stale was deleted from the cache by invalidate().
        const cached = await readCache(key);
        if (cached !== undefined && fresh(cached, Date.now())) return cached;
        const token = await requestToken();
        await cache.set(key, token);
        return token;
      };
      try {
        const token = cache.withLock
          ? await cache.withLock(key, LOCK_TTL_MS, fromCacheOrLogin)
          : await fromCacheOrLogin();
        current = token;
        failure = undefined;
        return token;
      } catch (error) {
        const streak = (failure?.streak ?? 0) + 1;
        const wait = Math.min(30_000, 1_000 * 2 ** Math.min(streak - 1, 5));
        failure = { error, until: performance.now() + wait, streak };
        throw error;
      }
    })().finally(() => {
      inFlight = undefined;
    });
    return inFlight;
  }

  async function readCache(key: string): Promise<Held | undefined> {
    const cached = await cache.get(key);
    const now = Date.now();
    if (cached === undefined || !(cached.expiresAt > now)) return undefined;
    return withLifetime(cached, now);
  }

  async function tokenNow(): Promise<string> {
    if (current === undefined) current = await readCache(await cacheKey);
    const now = Date.now();
    if (current === undefined) return (await renew()).token;
    if (fresh(current, now)) return current.token;
    if (now < usableUntil(current)) {
      // Still valid: renew in the background, callers keep the token they have meanwhile (a
      // token the server still accepts is used, not replaced while they wait).
      // After a failed renewal, the next is tried when its backoff ends, not on every call.
      if (!failing()) renew().catch(() => undefined);
      return current.token;
    }
    return (await renew()).token;
  }

  const provider = (() => tokenNow()) as LoginTokenProvider;
  provider.invalidate = async (token: string) => {
    if (current?.token === token) current = undefined;
    const key = await cacheKey;
    if (cache.deleteToken) return cache.deleteToken(key, token);
    const cached = await cache.get(key);
    if (cached?.token === token) await cache.delete(key);
  };
  Object.defineProperty(provider, "secrets", { value: Object.freeze([...secrets]) });
  return provider;
}
