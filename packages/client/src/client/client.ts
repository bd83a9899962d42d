// createVbapiClient: the configured client, its raw openapi-fetch client and the single-batch call.
import createClient, { type Client } from "openapi-fetch";
import { passwordLogin } from "../auth/login.ts";
import { env, SDK_VERSION } from "../base/defaults.ts";
import { ConfigurationError, ValidationError } from "../base/errors.ts";
import { levelLogger } from "../base/logger.ts";
import { redact } from "../base/redact.ts";
import type { BatchItem, BatchResult } from "../base/types.ts";
import { prepareRecords } from "../base/validate.ts";
import {
  type EntityKey,
  type EntityName,
  type EntityPathParams,
  type EntityRecord,
  entities,
} from "../generated/entities.ts";
import { type BatchContext, sendBatch, withRefused } from "../transport/batch.ts";
import { type BulkContext, FROM_BULK_RUN, registerContext } from "../transport/context.ts";
import { type Limiter, RateLimiter } from "../transport/rate-limit.ts";
import { toBatchResult } from "../transport/results.ts";
import { createTelemetry } from "../transport/telemetry.ts";
import { TokenSource } from "../transport/tokens.ts";
import { type RequestOptions, Transport } from "../transport/transport.ts";
import {
  checkCredentials,
  checkTimeout,
  type ResolvedConfig,
  resolveConfig,
  type VbapiClientOptions,
} from "./config.ts";
import type { VbapiPaths } from "./raw.ts";

export { DEFAULT_BASE_URL, SDK_VERSION } from "../base/defaults.ts";
export type { VbapiClientOptions } from "./config.ts";

/** How upsertBatch treats records that fail client-side validation. */
export type ValidateMode = boolean | "skip-invalid";

/** `pathParams`, required exactly for the entities whose batch path has parameters. */
export type PathParamsOption<E extends EntityName> = [EntityPathParams<E>] extends [never]
  ? { pathParams?: undefined }
  : { pathParams: EntityPathParams<E> };

export type UpsertBatchOptions<E extends EntityName = EntityName> = RequestOptions & {
  /**
   * true (default): invalid records raise ValidationError and nothing is sent.
   * "skip-invalid": valid records are sent; invalid ones come back as failed items (status 0).
   * false: send as given (records that cannot be serialized still raise ValidationError).
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
  /** The limiter every request of this client goes through. */
  readonly rateLimiter: Limiter;
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

/** The entity's definition, or a ConfigurationError naming the bad value (never a TypeError). */
export function entityDef(where: string, entity: unknown): (typeof entities)[EntityName] {
  if (typeof entity !== "string" || !Object.hasOwn(entities, entity)) {
    throw new ConfigurationError(
      `${where}: unknown entity ${JSON.stringify(String(entity)).slice(0, 60)} (one of ${Object.keys(entities).join(", ")})`,
    );
  }
  return entities[entity as EntityName];
}

/** The headers of every request but the bearer token, built once. */
function baseHeaders(config: ResolvedConfig): Record<string, string> {
  return {
    "content-type": "application/json",
    "x-api-key": config.apiKey ?? "",
    "vbasoftware-database": config.database ?? "",
    "user-agent": config.userAgent,
    accept: "application/json",
  };
}

/** A fetch for openapi-fetch: the raw client's requests through the same transport. */
function rawFetch(
  config: ResolvedConfig,
  transport: Transport,
  headers: Record<string, string>,
): typeof globalThis.fetch {
  return async (input, init) => {
    checkCredentials(config);
    const request =
      input instanceof Request && init === undefined ? input : new Request(input, init);
    // openapi-fetch builds a Request with the caller's signal (middleware sees and may copy it):
    // the request's own signal follows the caller's, and the transport follows that one.
    const signal = request.signal;
    // The raw caller may set its own headers (another database, say); the API key is the client's.
    const merged: Record<string, string> = { ...headers };
    request.headers.forEach((value, name) => {
      merged[name] = value;
    });
    merged["x-api-key"] = headers["x-api-key"] as string;
    const answer = await transport.execute(
      {
        method: request.method,
        url: request.url,
        what: `${request.method} ${new URL(request.url).pathname}`,
        headers: merged,
        body: request.body ? await request.text() : undefined,
        // Spans and metrics name the spec's path template, never the values in a concrete path.
        template: templateOf(config.baseUrl, request.url),
      },
      { signal },
    );
    const empty = [101, 204, 205, 304].includes(answer.status);
    return new Response(empty ? null : (answer.body as Uint8Array<ArrayBuffer>), {
      status: answer.status,
      statusText: answer.statusText,
      headers: answer.headers,
    });
  };
}

/** The spec path templates of the batch operations, as patterns over a URL's path. */
const TEMPLATES = Object.values(entities).map((def) => ({
  template: def.path,
  pattern: new RegExp(
    `^${def.path.replace(/[.*+?^$()|[\]\\]/g, "\\$&").replace(/\\?\{[^}]+\\?\}/g, "[^/]+")}$`,
  ),
}));

/** The spec's template of a raw call's URL (`/provider-credentialing/{providerCredKey}/...`), or its path's first segment when it matches none. */
function templateOf(baseUrl: string, url: string): string {
  const base = new URL(baseUrl).pathname.replace(/\/+$/, "");
  const path = new URL(url).pathname;
  const rel = path.startsWith(base) ? path.slice(base.length) || "/" : path;
  const known = TEMPLATES.find((t) => t.pattern.test(rel));
  return known ? known.template : `/${rel.split("/")[1] ?? ""}`;
}

/** With no token given but a username and password in the environment, the client logs in. */
function loginFromEnv(config: ResolvedConfig): void {
  if (config.token !== undefined || !env("VBAPI_USERNAME") || !env("VBAPI_PASSWORD")) return;
  config.token = passwordLogin({
    baseUrl: config.baseUrl,
    ...(config.apiKey ? { apiKey: config.apiKey } : {}),
    ...(config.database ? { database: config.database } : {}),
    userAgent: config.userAgent,
    fetch: config.fetch,
    ...config.telemetry,
  });
}

export function createVbapiClient(options: VbapiClientOptions = {}): VbapiClient {
  const config = resolveConfig(options);
  loginFromEnv(config);
  const tokensSeen = new Set<string>();
  const providerSecrets =
    (config.token as { secrets?: readonly string[] } | undefined)?.secrets ?? [];
  const secrets = () => [
    config.apiKey,
    typeof config.token === "string" ? config.token : undefined,
    ...providerSecrets,
    ...tokensSeen,
  ];
  const scrub = (text: string) => redact(text, secrets());
  const logger = levelLogger(config.logger, config.logLevel, scrub);
  const limiter = config.limiter ?? new RateLimiter(config.rateLimit);
  const tokens = new TokenSource(config.token ?? "", (token) => tokensSeen.add(token));
  const telemetry = createTelemetry(config.telemetry, SDK_VERSION);
  const transport = new Transport({
    fetch: config.fetch,
    tokens,
    timeoutMs: config.timeoutMs,
    maxRetries: config.maxRetries,
    backoff: config.backoff,
    limiter,
    logger,
    maxResponseBytes: config.maxResponseBytes,
    telemetry,
  });
  const headers = baseHeaders(config);
  const ctx: BatchContext = {
    transport,
    baseUrl: config.baseUrl,
    headers,
    logger,
    scrub,
    targets: new Map(),
    telemetry,
    database: config.database,
  };

  async function upsertBatch<E extends EntityName>(
    entity: E,
    records: readonly EntityRecord<E>[],
    ...args: UpsertBatchArgs<E>
  ): Promise<BatchResult<EntityKey<E>>> {
    type K = EntityKey<E>;
    const opts = (args[0] ?? {}) as UpsertBatchOptions;
    entityDef("upsertBatch", entity);
    if (!Array.isArray(records)) {
      throw new ConfigurationError("upsertBatch: records must be an array");
    }
    checkTimeout("upsertBatch", opts.timeoutMs);
    if (records.length === 0) return toBatchResult<K>([], undefined);
    checkCredentials(config);
    const prepared = prepareRecords<K>(entity, records, opts.pathParams, opts.validate ?? true);
    if (prepared.issues.length > 0) throw new ValidationError(entity, prepared.issues);
    if (prepared.refused.length > 0) {
      logger.warn(`upsertBatch ${entity}: skipping ${prepared.refused.length} invalid record(s)`);
    }
    const refused: BatchItem<K>[] = prepared.refused;
    // Records by outcome; a bulk run's calls are counted by the run instead.
    const fromRun = (opts as { [FROM_BULK_RUN]?: (t: typeof telemetry) => void })[FROM_BULK_RUN];
    if (typeof fromRun === "function") fromRun(telemetry);
    const counting = fromRun ? undefined : telemetry;
    if (prepared.records.length === 0) {
      counting?.countRecords(entity, "failed", refused.length);
      return toBatchResult<K>(refused, undefined);
    }
    const outcome = await sendBatch<K>(ctx, entity, prepared.records, prepared.json, {
      ...opts,
      indices: prepared.indices,
    });
    if (!outcome.ok) {
      counting?.countRecords(entity, "failed", records.length);
      throw outcome.error;
    }
    const result = withRefused(outcome.result, refused);
    if (counting) {
      let created = 0;
      let updated = 0;
      for (const item of result.items) {
        if (item.outcome === "created") created++;
        else if (item.outcome === "updated") updated++;
      }
      counting.countRecords(entity, "created", created);
      counting.countRecords(entity, "updated", updated);
      counting.countRecords(entity, "failed", result.failed);
    }
    return result;
  }

  let raw: RawClient | undefined;
  const settle = (value: RawClient) => {
    if (Object.getOwnPropertyDescriptor(client, "raw")?.configurable) {
      Object.defineProperty(client, "raw", { value, writable: true, enumerable: true });
    }
  };
  const client: VbapiClient = {
    // Made at first use: openapi-fetch reads the global `Request` as it is made, and that loads
    // Node's built-in fetch (about 15 ms of CPU), which a client given its own `fetch` never
    // needs. Then a plain data property (as is one assigned), as it was before; on a frozen or
    // sealed client (whose properties cannot be redefined) it stays this accessor.
    get raw(): RawClient {
      raw ??= createClient<VbapiPaths, "application/json">({
        baseUrl: config.baseUrl,
        fetch: rawFetch(config, transport, headers),
      });
      settle(raw);
      return raw;
    },
    set raw(value: RawClient) {
      raw = value;
      settle(value);
    },
    rateLimiter: limiter,
    config: Object.freeze({
      baseUrl: config.baseUrl,
      database: config.database,
      timeoutMs: config.timeoutMs,
      maxRetries: config.maxRetries,
    }),
    upsertBatch,
  };
  const bulk: BulkContext = {
    batch: ctx,
    checkCredentials: () => checkCredentials(config),
    limiter,
    maxRetryAfterMs: config.backoff.maxRetryAfterMs,
  };
  registerContext(client, bulk);
  return client;
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
