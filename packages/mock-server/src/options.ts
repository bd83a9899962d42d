// The options of startMockServer, their defaults, and the one place they are checked.
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import type { LatencyOptions } from "./latency.ts";
import type { RateLimitOptions } from "./rate-limit.ts";
import { loadBundledSpec, type OpenApiDocument } from "./spec.ts";

/** Default API key accepted by the mock server (for local testing only). */
export const DEFAULT_API_KEY = "test-api-key";
/** Default bearer token accepted by the mock server (for local testing only). */
export const DEFAULT_TOKEN = "test-token";
/** Default request body limit: 10 MiB. */
export const DEFAULT_MAX_BODY_BYTES = 10 * 1024 * 1024;
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
  validateToken: (token: string) => boolean | Promise<boolean>;
  rateLimit: RateLimitOptions | false | undefined;
  latency: LatencyOptions | false | undefined;
  maxBodyBytes: number;
  /** How much of an over-long body is read and discarded before the connection is dropped. */
  discardCap: number;
  adminToken: string | null;
  adminHeader: string;
  spec: OpenApiDocument;
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

function loadSpec(spec: MockServerOptions["spec"]): OpenApiDocument {
  if (spec === undefined) return loadBundledSpec();
  if (typeof spec === "string") return JSON.parse(readFileSync(spec, "utf8")) as OpenApiDocument;
  return spec;
}

/** Applies defaults and checks every option; throws a TypeError/RangeError naming the option. */
export function resolveOptions(options: MockServerOptions): ResolvedOptions {
  const tokens = toList(options.tokens, DEFAULT_TOKEN);
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
