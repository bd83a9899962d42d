// VBA's login (`POST /user-authentication`) as a token provider: logs in lazily, once for any
// number of concurrent callers (and, with a shared cache that can lock, once for any number of
// processes), caches the ID token until a margin before its expiry, renews ahead of time
// without blocking callers that still hold a valid token, and renews once after a 401.

import { DEFAULT_BASE_URL, defaultUserAgent, env } from "../core/config.ts";
import {
  apiErrorFromAnswer,
  ConfigurationError,
  ConnectionError,
  VbapiError,
} from "../core/errors.ts";
import { type BackoffOptions, parseRetryAfter, retryDelay } from "../core/retry.ts";
import { redact } from "../internal/redact.ts";
import { sleep } from "../internal/timeout.ts";
import { isHeaderSafe } from "../internal/tokens.ts";
import { memoryTokenCache, type StoredToken, type TokenCache } from "./token-cache.ts";

export interface PasswordLoginOptions {
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
  /** Where the token is kept between calls (and processes). Default: in memory. */
  cache?: TokenCache;
  /** Renew this long before the token expires. Default 5 minutes (VBA's guidance). */
  renewBeforeMs?: number;
  /** Per login request. Default 30 000. */
  timeoutMs?: number;
  /** Login attempts after a 429 or a connection failure. Default 4. */
  maxRetries?: number;
  /** Cap on one wait after a 429 (Retry-After, or 1 s doubling). Default 60 000. */
  maxRetryAfterMs?: number;
}

/** A token provider that logs in: pass it as `createVbapiClient({ token })`. */
export interface LoginTokenProvider {
  (): Promise<string>;
  /** Drops `token` (the client calls this after a 401) so the next call logs in again. */
  invalidate(token: string): Promise<void>;
  /** Values that must never be written anywhere (the password, the API key). */
  readonly secrets: readonly string[];
}

/** VBA's ID tokens live 24 hours; used when the token carries no readable `exp`. */
const DEFAULT_LIFETIME_MS = 24 * 60 * 60 * 1000;
const LOCK_TTL_MS = 60_000;

function base64(text: string): string {
  const bytes = new TextEncoder().encode(text);
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

/** The `exp` of a JWT, in epoch ms, or undefined when it has none (the signature is VBA's to check). */
export function jwtExpiry(token: string): number | undefined {
  const payload = token.split(".")[1];
  if (payload === undefined) return undefined;
  try {
    const json = atob(payload.replace(/-/g, "+").replace(/_/g, "/"));
    const exp = (JSON.parse(json) as { exp?: unknown }).exp;
    return typeof exp === "number" && Number.isFinite(exp) ? exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}

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
  const baseUrl = (base as URL).href.replace(/\/+$/, "");
  const fetchFn = options.fetch ?? globalThis.fetch;
  if (typeof fetchFn !== "function") fail("fetch must be a function");
  const cache = options.cache ?? memoryTokenCache();
  if (typeof cache?.get !== "function" || typeof cache.set !== "function") {
    fail("cache must have get() and set() methods");
  }
  const number = (name: string, value: number | undefined, fallback: number, min: number) => {
    const n = value ?? fallback;
    if (typeof n !== "number" || !Number.isFinite(n) || n < min) {
      fail(`${name} must be a finite number >= ${min}`);
    }
    return n;
  };
  const renewBeforeMs = number("renewBeforeMs", options.renewBeforeMs, 5 * 60_000, 0);
  const timeoutMs = number("timeoutMs", options.timeoutMs, 30_000, 1);
  const maxRetries = Math.floor(number("maxRetries", options.maxRetries, 4, 0));
  const maxRetryAfterMs = number("maxRetryAfterMs", options.maxRetryAfterMs, 60_000, 0);
  // The client's backoff policy, starting at a second: logging in too often is rate limited.
  const backoff: BackoffOptions = {
    initialDelayMs: 1_000,
    maxDelayMs: maxRetryAfterMs,
    maxRetryAfterMs,
  };
  const userAgent = options.userAgent ?? defaultUserAgent();
  if (!isHeaderSafe(userAgent)) fail("userAgent holds characters a header cannot carry");
  const authorization = `Basic ${base64(`${username}:${password}`)}`;
  const secrets = [password, apiKey, authorization.slice(6)];
  const scrub = (text: string) => redact(text, secrets);
  const url = `${baseUrl}/user-authentication`;
  // One cache entry per login identity; the key is a hash, never the credentials.
  const cacheKey = sha256(
    `${baseUrl}\n${apiKey}\n${username}\n${clientId}\n${clientCode}\n${database}`,
  ).then((hash) => `login:${hash}`);

  let current: StoredToken | undefined;
  let inFlight: Promise<StoredToken> | undefined;

  async function requestToken(): Promise<StoredToken> {
    for (let attempt = 0; ; attempt++) {
      let response: Response;
      let text: string;
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
          signal: AbortSignal.timeout(timeoutMs),
        });
        text = await response.text();
      } catch (error) {
        if (attempt < maxRetries) {
          await sleep(retryDelay(attempt, undefined, backoff));
          continue;
        }
        throw new ConnectionError(
          `POST /user-authentication: the login failed to connect (${error instanceof Error ? error.name : "unknown error"})`,
          { mayHaveBeenApplied: false, cause: error },
        );
      }
      if (response.status === 429 && attempt < maxRetries) {
        // Logging in too often is itself rate limited: wait as told, then try again.
        await sleep(
          retryDelay(attempt, parseRetryAfter(response.headers.get("retry-after")), backoff),
        );
        continue;
      }
      if (response.status < 200 || response.status > 299) {
        const error = apiErrorFromAnswer(response, text, "POST /user-authentication", url, scrub);
        throw error;
      }
      let idToken: unknown;
      try {
        idToken = (JSON.parse(text) as { data?: { authenticationResult?: { idToken?: unknown } } })
          .data?.authenticationResult?.idToken;
      } catch {}
      if (typeof idToken !== "string" || idToken === "" || !isHeaderSafe(idToken)) {
        throw new VbapiError(
          "POST /user-authentication: the answer has no usable data.authenticationResult.idToken",
        );
      }
      return { token: idToken, expiresAt: jwtExpiry(idToken) ?? Date.now() + DEFAULT_LIFETIME_MS };
    }
  }

  /** Logs in once (per process; per cache when it can lock), unless the cache already holds a fresh token. */
  function renew(): Promise<StoredToken> {
    const fresh = (token: StoredToken | undefined): token is StoredToken =>
      token !== undefined && token.expiresAt - renewBeforeMs > Date.now();
    inFlight ??= (async () => {
      // A caller that waited on the cache while another renewal finished finds its token here.
      if (fresh(current)) return current;
      const key = await cacheKey;
      const fromCacheOrLogin = async () => {
        // Another process (or renewal) may have logged in meanwhile; a token that a 401 made
        // stale was deleted from the cache by invalidate().
        const cached = await cache.get(key);
        if (fresh(cached)) return cached;
        const token = await requestToken();
        await cache.set(key, token);
        return token;
      };
      const token = cache.withLock
        ? await cache.withLock(key, LOCK_TTL_MS, fromCacheOrLogin)
        : await fromCacheOrLogin();
      current = token;
      return token;
    })().finally(() => {
      inFlight = undefined;
    });
    return inFlight;
  }

  async function tokenNow(): Promise<string> {
    const now = Date.now();
    if (current === undefined) {
      const cached = await cache.get(await cacheKey);
      if (cached && cached.expiresAt > now) current = cached;
    }
    if (current && current.expiresAt - renewBeforeMs > now) return current.token;
    if (current && current.expiresAt > now + 1_000) {
      // Still valid: renew in the background, callers keep the token they have meanwhile.
      renew().catch(() => undefined);
      return current.token;
    }
    return (await renew()).token;
  }

  const provider = (() => tokenNow()) as LoginTokenProvider;
  provider.invalidate = async (token: string) => {
    if (current?.token === token) current = undefined;
    const key = await cacheKey;
    const cached = await cache.get(key);
    if (cached?.token === token) await cache.delete(key);
  };
  Object.defineProperty(provider, "secrets", { value: Object.freeze([...secrets]) });
  return provider;
}
