// The options of startMockServer, their defaults, and the one place they are checked.
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import type { LatencyOptions } from "./latency.ts";
import type { RateLimitOptions } from "./rate-limit.ts";
import type { OpenApiDocument } from "./spec.ts";

/** Default API key accepted by the mock server (for local testing only). */
export const DEFAULT_API_KEY = "test-api-key";
/** Default bearer token accepted by the mock server (for local testing only). */
export const DEFAULT_TOKEN = "test-token";
/** Default request body limit: 10 MiB. */
export const DEFAULT_MAX_BODY_BYTES: number = 10 * 1024 * 1024;
/** Default name of the header carrying the admin token. */
export const DEFAULT_ADMIN_HEADER = "x-admin-token";

/** One line of the optional request log. Carries no record contents and no credentials. */
export interface RequestLogEntry {
  method: string;
  /** Request path without the query string. */
  path: string;
  status: number;
  /** Time from the request's arrival to the end of the answer. */
  durationMs: number;
  /** Entity of the batch route, when the path matched one. */
  entity?: string;
  /** Number of records in the batch, when it was parsed. */
  records?: number;
  /** Set when a fault changed the outcome (e.g. `reset-connection`). */
  fault?: string;
}

/** A user who may log in (`POST /user-authentication`). */
export interface MockUser {
  username: string;
  password: string;
  /** Expected `vbasoftware-client-id`. */
  clientId: string;
  /** Expected `vbasoftware-client-code`. */
  clientCode: string;
  /** The only `vbasoftware-database` this user may log in to; any when absent. */
  database?: string;
}

/** Default lifetime of an issued ID token: 24 hours, as VBA's. */
export const DEFAULT_TOKEN_LIFETIME_MS: number = 24 * 60 * 60 * 1000;
/** Default login rate limit per API key (VBA does not publish its own): 1/s, burst 10. */
export const DEFAULT_LOGIN_RATE_LIMIT = { requestsPerSecond: 1, burst: 10 } as const;

/** Options of {@link startMockServer}. Every field is optional. */
export interface MockServerOptions {
  /** TCP port; 0 (default) picks a free one. */
  port?: number;
  /** Interface to listen on. Default `127.0.0.1`. */
  host?: string;
  /** Accepted `x-api-key` values. Default `["test-api-key"]`. */
  apiKeys?: string | readonly string[];
  /** Accepted bearer tokens. Default `["test-token"]`. Ignored when `validateToken` is given. */
  tokens?: string | readonly string[];
  /**
   * Decides whether a bearer token is valid (replaces `tokens`), e.g. to let tests expire tokens.
   * May return a promise.
   */
  validateToken?: (token: string) => boolean | Promise<boolean>;
  /**
   * Users who may log in. Giving any turns on login mode: the batch routes then accept only
   * unexpired ID tokens this server issued (no static `tokens`, no `validateToken`).
   */
  users?: readonly MockUser[];
  /**
   * The databases that exist. When given, a batch request or a login whose
   * `vbasoftware-database` names another one is refused 401 (the mock's choice of answer: VBA
   * does not publish it). Default: every database exists.
   */
  databases?: readonly string[];
  /** Lifetime of the ID tokens the login issues. Default 24 hours. */
  tokenLifetimeMs?: number;
  /**
   * How far the server's clock runs ahead of this machine's (negative: behind), in ms. Its ID
   * tokens' `iat`/`exp`, its check of their expiry and its `Date` header follow that clock, as a
   * VBA whose clock disagrees with the client's would. Default 0.
   */
  clockOffsetMs?: number;
  /** Whether issued ID tokens carry `iat` (issued at). Default true; `false` leaves only `exp`. */
  tokenIssuedAt?: boolean;
  /** Rate limit of logins per API key, or `false` for none. Default 1/s, burst 10. */
  loginRateLimit?: RateLimitOptions | false;
  /**
   * Token-bucket rate limit per API key (as VBA's), or `false` for none. Default 25 requests/s,
   * burst 50 (VBA's published limits).
   */
  rateLimit?: RateLimitOptions | false;
  /**
   * Simulated latency: every API answer (not admin) leaves no earlier than
   * `fixedMs + jitterMs * random()` after its request arrived. Default none.
   */
  latency?: LatencyOptions | false;
  /** Largest accepted request body in bytes; larger ones get 413. Default 10 MiB. */
  maxBodyBytes?: number;
  /**
   * Token for the `/__admin` endpoint. Default: random (see `credentials.adminToken`).
   * `false` disables the admin endpoint (then `/__admin/...` answers 404).
   */
  adminToken?: string | false;
  /** Header carrying the admin token. Default `x-admin-token`. */
  adminHeader?: string;
  /**
   * The OpenAPI document to serve: a parsed object or a JSON file path.
   * Default: the bundled `@vbapi-sdk/openapi/openapi.json`.
   */
  spec?: OpenApiDocument | string;
  /** Path prefix in front of every route (e.g. `/vbasoftware`). Default none. `url` includes it. */
  basePath?: string;
  /** Most field errors listed in one 400 answer. Default 20. */
  maxErrors?: number;
  /** Called once per answered request (no record contents, no credentials). */
  log?: (entry: RequestLogEntry) => void;
  /** Random source for probability faults (0 <= x < 1). Default `Math.random`. */
  random?: () => number;
}

/** The options after defaults and checks; what the rest of the server reads. */
export interface ResolvedOptions {
  port: number;
  host: string;
  apiKeys: string[];
  tokens: string[];
  users: MockUser[];
  databases: ReadonlySet<string> | undefined;
  tokenLifetimeMs: number;
  clockOffsetMs: number;
  tokenIssuedAt: boolean;
  loginRateLimit: RateLimitOptions | false;
  validateToken: (token: string) => boolean | Promise<boolean>;
  rateLimit: RateLimitOptions | false | undefined;
  latency: LatencyOptions | false | undefined;
  maxBodyBytes: number;
  /** How much of an over-long body is read and discarded before the connection is dropped. */
  discardCap: number;
  adminToken: string | null;
  adminHeader: string;
  /** The `spec` option's document; undefined for the bundled spec (compiled once: server.ts). */
  spec: OpenApiDocument | undefined;
  basePath: string;
  maxErrors: number;
  log: ((entry: RequestLogEntry) => void) | undefined;
  random: () => number;
}

function toList(value: string | readonly string[] | undefined, fallback: string): string[] {
  if (value === undefined) return [fallback];
  const list = typeof value === "string" ? [value] : [...value];
  if (list.length === 0 || list.some((v) => typeof v !== "string" || v.length === 0)) {
    throw new TypeError("credentials must be non-empty strings");
  }
  return list;
}

/** The document given as `spec` (read when it is a path); undefined for the bundled spec. */
function loadSpec(spec: MockServerOptions["spec"]): OpenApiDocument | undefined {
  if (typeof spec === "string") return JSON.parse(readFileSync(spec, "utf8")) as OpenApiDocument;
  return spec;
}

function checkUsers(users: readonly MockUser[]): MockUser[] {
  if (!Array.isArray(users)) throw new TypeError("users must be an array");
  const seen = new Set<string>();
  return users.map((user, i) => {
    for (const field of ["username", "password", "clientId", "clientCode"] as const) {
      if (typeof user?.[field] !== "string" || user[field].length === 0) {
        throw new TypeError(`users[${i}].${field} must be a non-empty string`);
      }
    }
    if (user.database !== undefined && (typeof user.database !== "string" || !user.database)) {
      throw new TypeError(`users[${i}].database must be a non-empty string when given`);
    }
    if (user.username.includes(":")) {
      throw new TypeError(`users[${i}].username must not contain ":" (HTTP Basic cannot carry it)`);
    }
    const id = `${user.username}\n${user.database ?? ""}`;
    if (seen.has(id)) throw new TypeError(`users[${i}] repeats a username for the same database`);
    seen.add(id);
    return { ...user };
  });
}

function checkDatabases(databases: readonly string[] | undefined): Set<string> | undefined {
  if (databases === undefined) return undefined;
  if (!Array.isArray(databases) || databases.some((d) => typeof d !== "string" || d === "")) {
    throw new TypeError("databases must be an array of non-empty strings");
  }
  return new Set(databases);
}

/** Applies defaults and checks every option; throws a TypeError/RangeError naming the option. */
export function resolveOptions(options: MockServerOptions): ResolvedOptions {
  const users = checkUsers(options.users ?? []);
  if (users.length > 0 && (options.tokens !== undefined || options.validateToken !== undefined)) {
    throw new TypeError("users (login mode) cannot be combined with tokens or validateToken");
  }
  const tokenLifetimeMs = options.tokenLifetimeMs ?? DEFAULT_TOKEN_LIFETIME_MS;
  if (
    !(typeof tokenLifetimeMs === "number" && tokenLifetimeMs >= 1 && tokenLifetimeMs <= 2 ** 40)
  ) {
    throw new RangeError("tokenLifetimeMs must be a number of milliseconds >= 1");
  }
  const clockOffsetMs = options.clockOffsetMs ?? 0;
  if (!(typeof clockOffsetMs === "number" && Math.abs(clockOffsetMs) <= 2 ** 40)) {
    throw new RangeError("clockOffsetMs must be a number of milliseconds");
  }
  const tokenIssuedAt = options.tokenIssuedAt ?? true;
  if (typeof tokenIssuedAt !== "boolean") throw new TypeError("tokenIssuedAt must be a boolean");
  const tokens = users.length > 0 ? [] : toList(options.tokens, DEFAULT_TOKEN);
  const tokenSet = new Set(tokens);
  const adminToken =
    options.adminToken === false
      ? null
      : (options.adminToken ?? randomBytes(18).toString("base64url"));
  if (adminToken !== null && adminToken.length === 0)
    throw new TypeError("adminToken must not be empty");
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  if (!(maxBodyBytes > 0)) throw new RangeError("maxBodyBytes must be > 0");
  const basePath = (options.basePath ?? "").replace(/\/+$/, "");
  if (basePath && !basePath.startsWith("/")) throw new TypeError("basePath must start with /");
  return {
    port: options.port ?? 0,
    host: options.host ?? "127.0.0.1",
    apiKeys: toList(options.apiKeys, DEFAULT_API_KEY),
    tokens,
    users,
    databases: checkDatabases(options.databases),
    tokenLifetimeMs,
    clockOffsetMs,
    tokenIssuedAt,
    loginRateLimit:
      options.loginRateLimit === false
        ? false
        : { ...DEFAULT_LOGIN_RATE_LIMIT, ...options.loginRateLimit },
    validateToken: options.validateToken ?? ((token: string) => tokenSet.has(token)),
    rateLimit: options.rateLimit,
    latency: options.latency,
    maxBodyBytes,
    discardCap: Math.max(4 * maxBodyBytes, 64 * 1024 * 1024),
    adminToken,
    adminHeader: (options.adminHeader ?? DEFAULT_ADMIN_HEADER).toLowerCase(),
    spec: loadSpec(options.spec),
    basePath,
    maxErrors: options.maxErrors ?? 20,
    log: options.log,
    random: options.random ?? Math.random,
  };
}
