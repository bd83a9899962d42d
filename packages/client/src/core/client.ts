// createVbapiClient: the configured client, its raw openapi-fetch client and the single-batch call.
import createClient, { type Client, createFinalURL, defaultPathSerializer } from "openapi-fetch";
import pkg from "../../package.json" with { type: "json" };
import {
  type EntityKey,
  type EntityName,
  type EntityPathParams,
  type EntityRecord,
  entities,
} from "../generated/entities.js";
import type { BatchItem, BatchResult } from "../types.js";
import { ApiError, ConfigurationError, ResponseParseError, ValidationError } from "./errors.js";
import { type Logger, type LogLevel, levelLogger } from "./logger.js";
import { DEFAULT_RATE_LIMIT, RateLimiter, type RateLimitOptions } from "./rate-limit.js";
import type { VbapiPaths } from "./raw.js";
import { redact, truncate } from "./redact.js";
import { type MultiCodeEntry, matchItems, toBatchResult } from "./results.js";
import { type BackoffOptions, DEFAULT_BACKOFF, parseRetryAfter } from "./retry.js";
import { type RequestOptions, type TokenProvider, Transport } from "./transport.js";
import { validateRecords } from "./validate.js";

/**
 * Internal: `client[UPSERT_SERIALIZED](entity, records, json, options)` upserts records that are
 * already validated, with `json` their serialized JSON array (the bulk engine's fast path).
 */
export const UPSERT_SERIALIZED: unique symbol = Symbol("vbapi-sdk.upsertSerialized");
export type UpsertSerialized = (
  entity: EntityName,
  records: readonly unknown[],
  json: string,
  options: RequestOptions & { pathParams?: unknown },
) => Promise<BatchResult<unknown>>;

export const DEFAULT_BASE_URL = "https://vbapi.vbasoftware.com/vbasoftware";
export const SDK_VERSION: string = pkg.version;

export interface VbapiClientOptions {
  /** Default `https://vbapi.vbasoftware.com/vbasoftware`. */
  baseUrl?: string;
  /** Sent as `x-api-key`. Default: env VBAPI_API_KEY. */
  apiKey?: string;
  /**
   * The bearer JWT (VBA's `idToken`), or a function returning it. A function's result is cached;
   * on a 401 it is called again and the request retried once. Default: env VBAPI_TOKEN.
   */
  token?: TokenProvider;
  /** Sent as `vbasoftware-database` on every call. Default: env VBAPI_DATABASE. */
  database?: string;
  /** Default `vbapi-sdk/<version> node/<version>` (VBA answers 403 without a User-Agent). */
  userAgent?: string;
  /** Per attempt; default 30 000. */
  timeoutMs?: number;
  /** Retries after the first attempt (408, 429, 502, 503, 504, connection errors, timeouts); default 2. */
  maxRetries?: number;
  /** Backoff tuning (defaults: 500 ms initial, 8 s cap, Retry-After honoured up to 60 s). */
  backoff?: Partial<BackoffOptions>;
  /** One token bucket for every request of this client; default 25/s, burst 45 (VBA allows 50: five are kept in hand against jitter). `false` removes the cap. */
  rateLimit?: RateLimitOptions | false;
  /** A custom fetch (tests, proxies, instrumentation). */
  fetch?: typeof globalThis.fetch;
  /** Default: console. */
  logger?: Logger;
  /** Default "warn". */
  logLevel?: LogLevel;
}

/** How upsertBatch treats records that fail client-side validation. */
export type ValidateMode = boolean | "skip-invalid";

type PathParamsOption<E extends EntityName> = [EntityPathParams<E>] extends [never]
  ? { pathParams?: undefined }
  : { pathParams: EntityPathParams<E> };

export type UpsertBatchOptions<E extends EntityName = EntityName> = RequestOptions & {
  /**
   * true (default): invalid records raise ValidationError and nothing is sent.
   * "skip-invalid": valid records are sent; invalid ones come back as failed items (status 0).
   * false: send as given.
   */
  validate?: ValidateMode;
} & PathParamsOption<E>;

/** The options argument: required for entities whose path has parameters (ProviderCredService). */
export type UpsertBatchArgs<E extends EntityName> = [EntityPathParams<E>] extends [never]
  ? [options?: UpsertBatchOptions<E>]
  : [options: UpsertBatchOptions<E>];

/** The fully typed openapi-fetch client; the database header is optional (the client sends it). */
export type RawClient = Client<VbapiPaths, "application/json">;

export interface VbapiClient {
  /** openapi-fetch client over the same transport (auth, rate limit, retries, timeouts). */
  readonly raw: RawClient;
  /** The token bucket every request of this client goes through. */
  readonly rateLimiter: RateLimiter;
  /** The resolved, non-secret settings. */
  readonly config: Readonly<{
    baseUrl: string;
    database: string | undefined;
    timeoutMs: number;
    maxRetries: number;
  }>;
  /** Upserts one batch (one request) and reports every record's outcome, in input order. */
  upsertBatch<E extends EntityName>(
    entity: E,
    records: readonly EntityRecord<E>[],
    ...args: UpsertBatchArgs<E>
  ): Promise<BatchResult<EntityKey<E>>>;
}

function env(name: string): string | undefined {
  const value = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process
    ?.env?.[name];
  return value === "" ? undefined : value;
}

function defaultUserAgent(): string {
  const node = (globalThis as { process?: { versions?: { node?: string } } }).process?.versions
    ?.node;
  return `vbapi-sdk/${SDK_VERSION}${node ? ` node/${node}` : ""}`;
}

function str(value: unknown): string | undefined {
  return typeof value === "string" && value !== "" ? value : undefined;
}

export function createVbapiClient(options: VbapiClientOptions = {}): VbapiClient {
  const apiKey = options.apiKey ?? env("VBAPI_API_KEY");
  const token = options.token ?? env("VBAPI_TOKEN");
  const database = options.database ?? env("VBAPI_DATABASE");
  const baseUrl = (options.baseUrl ?? DEFAULT_BASE_URL).replace(/\/+$/, "");
  const timeoutMs = options.timeoutMs ?? 30_000;
  const maxRetries = options.maxRetries ?? 2;
  if (!(timeoutMs > 0)) throw new ConfigurationError("timeoutMs must be a positive number");
  if (!(Number.isInteger(maxRetries) && maxRetries >= 0)) {
    throw new ConfigurationError("maxRetries must be a non-negative integer");
  }
  const tokensSeen = new Set<string>();
  const secrets = () => [apiKey, typeof token === "string" ? token : undefined, ...tokensSeen];
  const scrub = (text: string) => redact(text, secrets());
  const logger = levelLogger(options.logger ?? console, options.logLevel ?? "warn", scrub);
  const rateLimiter = new RateLimiter(options.rateLimit ?? DEFAULT_RATE_LIMIT);
  const userFetch = options.fetch ?? globalThis.fetch;
  const transport = new Transport({
    fetch: userFetch,
    apiKey,
    token:
      typeof token === "function"
        ? async () => {
            const t = await token();
            tokensSeen.add(t);
            return t;
          }
        : token,
    database,
    userAgent: options.userAgent ?? defaultUserAgent(),
    timeoutMs,
    maxRetries,
    backoff: { ...DEFAULT_BACKOFF, ...options.backoff },
    limiter: rateLimiter,
    logger,
  });
  const raw = createClient<VbapiPaths, "application/json">({
    baseUrl,
    fetch: transport.fetchWith(),
  });

  interface Target {
    url: string;
    what: string;
    operation: string;
  }
  const targets = new Map<string, Target>();
  function targetOf(entity: EntityName, pathParams: Record<string, unknown> | undefined): Target {
    const def = entities[entity];
    const cacheable = def.pathParams.length === 0;
    if (cacheable) {
      const cached = targets.get(entity);
      if (cached) return cached;
    }
    const url = createFinalURL(def.path, {
      baseUrl,
      params: { path: pathParams },
      querySerializer: () => "",
      pathSerializer: defaultPathSerializer,
    } as never);
    const target: Target = {
      url,
      what: `PUT ${new URL(url).pathname}`,
      operation: `PUT ${def.path.replace(/\{(\w+)\}/g, (_, p: string) => String(pathParams?.[p]))}`,
    };
    if (cacheable) targets.set(entity, target);
    return target;
  }

  async function upsertBatch<E extends EntityName>(
    entity: E,
    records: readonly EntityRecord<E>[],
    ...args: UpsertBatchArgs<E>
  ): Promise<BatchResult<EntityKey<E>>> {
    type K = EntityKey<E>;
    const opts = (args[0] ?? {}) as UpsertBatchOptions;
    const def = entities[entity];
    if (!def) throw new ConfigurationError(`upsertBatch: unknown entity ${String(entity)}`);
    if (!Array.isArray(records)) throw new TypeError("upsertBatch: records must be an array");
    if (records.length === 0) return toBatchResult<K>([], undefined);
    transport.checkConfig();

    let toSend: readonly unknown[] = records;
    let indices: number[] | undefined;
    const invalid: BatchItem<K>[] = [];
    const mode = opts.validate ?? true;
    if (mode !== false) {
      const issues = validateRecords(entity, records, opts.pathParams as never);
      if (issues.length > 0) {
        if (mode !== "skip-invalid" || issues.some((i) => i.index < 0))
          throw new ValidationError(entity, issues);
        const byIndex = new Map<number, string[]>();
        for (const issue of issues) {
          const list = byIndex.get(issue.index) ?? [];
          list.push(`${issue.path ? `${issue.path}: ` : ""}${issue.message}`);
          byIndex.set(issue.index, list);
        }
        const valid: unknown[] = [];
        indices = [];
        records.forEach((record, i) => {
          const problems = byIndex.get(i);
          if (problems) {
            const key = keyFrom<K>(record, def.keys);
            invalid.push({
              index: i,
              key,
              status: 0,
              outcome: "failed",
              message: `invalid: ${problems.join("; ")}`,
            });
          } else {
            valid.push(record);
            indices?.push(i);
          }
        });
        toSend = valid;
        logger.warn(`upsertBatch ${entity}: skipping ${invalid.length} invalid record(s)`);
      }
    }
    if (toSend.length === 0) return toBatchResult<K>(invalid, undefined);

    return sendBatch<E>(entity, toSend, JSON.stringify(toSend), opts, indices, invalid);
  }

  /** Sends records already validated, with their JSON body already serialized. */
  async function sendBatch<E extends EntityName>(
    entity: E,
    toSend: readonly unknown[],
    json: string,
    opts: UpsertBatchOptions,
    indices: number[] | undefined,
    invalid: BatchItem<EntityKey<E>>[],
  ): Promise<BatchResult<EntityKey<E>>> {
    type K = EntityKey<E>;
    const def = entities[entity];
    const target = targetOf(entity, opts.pathParams as Record<string, unknown> | undefined);
    const answer = await transport.sendJson("PUT", target.url, target.what, json, opts);
    const status = answer.status;
    const ok = status >= 200 && status <= 299;
    const contentLength = answer.headers.get("content-length");
    // As openapi-fetch reads it: no body for a 204 or an empty answer.
    const empty =
      status === 204 ||
      (contentLength === "0" && !answer.headers.get("transfer-encoding")?.includes("chunked"));
    const operation = target.operation;
    if (!ok) {
      let error: unknown;
      if (!empty) {
        error = answer.text;
        try {
          error = JSON.parse(answer.text);
        } catch {}
      }
      // Server text may echo what it was sent: scrub the records' string values too.
      const values = recordStrings(toSend);
      throw apiError(answer, error, operation, (text) => redact(scrub(text), values));
    }
    const data = empty ? undefined : answer.text;

    let body: unknown;
    try {
      body = typeof data === "string" && data !== "" ? JSON.parse(data) : undefined;
    } catch {
      throw new ResponseParseError(`${operation}: the HTTP ${status} answer is not JSON`, {
        status,
      });
    }
    const envelope = body as
      | { data?: unknown; debug?: { activityID?: unknown; activityId?: unknown } }
      | undefined;
    const activityId = str(envelope?.debug?.activityID) ?? str(envelope?.debug?.activityId);
    if (
      typeof body !== "object" ||
      body === null ||
      Array.isArray(body) ||
      !(envelope?.data === null || Array.isArray(envelope?.data))
    ) {
      throw new ResponseParseError(
        `${operation}: the HTTP ${status} answer is not a MultiCodeResponseListVBAResponse`,
        { status, activityId },
      );
    }
    const items = matchItems<K>(toSend, def.keys, envelope.data as MultiCodeEntry[] | null, {
      indices,
    });
    const all =
      invalid.length > 0 ? [...items, ...invalid].sort((a, b) => a.index - b.index) : items;
    const result = toBatchResult<K>(all, activityId);
    logger.debug(
      `${operation}: ${result.succeeded} succeeded, ${result.failed} failed${activityId ? ` [activityId ${activityId}]` : ""}`,
    );
    return result;
  }

  const client: VbapiClient = {
    raw,
    rateLimiter,
    config: Object.freeze({ baseUrl, database, timeoutMs, maxRetries }),
    upsertBatch,
  };
  // Internal fast path of the bulk engine: records already validated and serialized.
  const upsertSerialized: UpsertSerialized = (entity, records, json, opts) => {
    if (!entities[entity])
      throw new ConfigurationError(`upsertBatch: unknown entity ${String(entity)}`);
    if (records.length === 0) return Promise.resolve(toBatchResult([], undefined));
    transport.checkConfig();
    return sendBatch(entity, records, json, opts as UpsertBatchOptions, undefined, []);
  };
  Object.defineProperty(client, UPSERT_SERIALIZED, { value: upsertSerialized });
  return client;
}

/** String values of the records (6+ characters, so ordinary words in messages survive). */
function recordStrings(records: readonly unknown[]): string[] {
  const out = new Set<string>();
  for (const record of records) {
    if (typeof record !== "object" || record === null) continue;
    for (const value of Object.values(record)) {
      if (typeof value === "string" && value.length >= 6) out.add(value);
    }
  }
  return [...out].sort((a, b) => b.length - a.length);
}

function keyFrom<K>(record: unknown, keys: readonly string[]): K {
  const r = (typeof record === "object" && record !== null ? record : {}) as Record<
    string,
    unknown
  >;
  const key: Record<string, unknown> = {};
  for (const k of keys) key[k] = r[k];
  return key as K;
}

/** Builds the typed error for a non-2xx answer from its (parsed) problem details. */
export function apiError(
  response: Pick<Response, "status" | "statusText" | "headers">,
  body: unknown,
  operation: string,
  scrub: (s: string) => string,
): ApiError {
  const b = (typeof body === "object" && body !== null ? body : {}) as Record<string, unknown>;
  const problem = (typeof b.error === "object" && b.error !== null ? b.error : b) as Record<
    string,
    unknown
  >;
  const debug = (typeof b.debug === "object" && b.debug !== null ? b.debug : {}) as Record<
    string,
    unknown
  >;
  const clean = (v: unknown) =>
    typeof v === "string" && v !== "" ? truncate(scrub(v)) : undefined;
  return ApiError.from(
    {
      status: response.status,
      type: clean(problem.type),
      title: clean(problem.title) ?? (response.statusText || undefined),
      detail: clean(problem.detail) ?? (typeof body === "string" ? clean(body) : undefined),
      instance: clean(problem.instance),
      activityId:
        clean(debug.activityID) ??
        clean(debug.activityId) ??
        clean(b.activityID) ??
        clean(b.activityId),
      retryAfterMs: parseRetryAfter(response.headers.get("retry-after")),
    },
    operation,
  );
}

/**
 * A one-entity upsert function, for the domain packages:
 * `export const upsertTolerances = batchUpserter("Tolerance");`
 */
export function batchUpserter<E extends EntityName>(entity: E) {
  return (
    client: VbapiClient,
    records: readonly EntityRecord<E>[],
    ...args: UpsertBatchArgs<E>
  ): Promise<BatchResult<EntityKey<E>>> => client.upsertBatch(entity, records, ...args);
}
