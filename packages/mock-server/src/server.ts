// The HTTP server: routing, VBA's gatekeeping (403/401/429/400), body reading with a size
// limit, validation, upserts, fault injection and the admin endpoint.
import { randomBytes, timingSafeEqual } from "node:crypto";
import { readFileSync } from "node:fs";
import {
  createServer,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  type Server,
  type ServerResponse,
} from "node:http";
import type { AddressInfo } from "node:net";
import { handleAdmin } from "./admin.ts";
import { type FaultController, FaultRegistry, type RequestContext } from "./faults.ts";
import { type ProblemDetails, problem } from "./problem.ts";
import { type RateLimitOptions, TokenBucket } from "./rate-limit.ts";
import {
  buildSpecModel,
  loadBundledSpec,
  type OpenApiDocument,
  type RouteInfo,
  type SpecModel,
} from "./spec.ts";
import { type KeyValue, keyString, type MockStore, RecordStore } from "./store.ts";
import {
  coerceParam,
  compileValidators,
  describeErrors,
  type RouteValidators,
  validateBody,
} from "./validate.ts";

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
  /** Token-bucket rate limit, or `false` for none. Default 25 requests/s, burst 50 (VBA's published limits). */
  rateLimit?: RateLimitOptions | false;
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

/** Credentials the server accepts, and ready-made headers. */
export interface MockCredentials {
  /** The first accepted API key. */
  apiKey: string;
  /** Every accepted API key. */
  apiKeys: readonly string[];
  /** The first accepted bearer token (meaningless when `validateToken` decides). */
  token: string;
  /** Every accepted bearer token. */
  tokens: readonly string[];
  /** Admin token, or `null` when the admin endpoint is disabled. */
  adminToken: string | null;
  /** Header carrying the admin token. */
  adminHeader: string;
  /** `x-api-key`, `authorization` and `user-agent` headers that pass the gatekeeping. */
  headers: Readonly<Record<string, string>>;
  /** The admin header, ready to spread into fetch headers (empty when disabled). */
  adminHeaders: Readonly<Record<string, string>>;
}

/** Counters since start or the last `reset()`. Admin requests are not counted except in `admin`. */
export interface MockStats {
  /** Requests to the API (everything not under `/__admin`). */
  requests: number;
  /** Answers by HTTP status (as strings: `"207"`, `"429"`...). */
  byStatus: Record<string, number>;
  /** 429 answers sent by the rate limiter (not by faults). */
  rateLimited: number;
  /** Record outcomes inside 207 answers. */
  records: {
    created: number;
    updated: number;
    /** Per-record failures (path mismatch or injected). */
    failed: number;
    /** Records left out of `data` by faults. */
    omitted: number;
  };
  /** Fault firings. */
  faultsInjected: number;
  /** Connections reset by faults. */
  connectionsReset: number;
  /** Requests to the admin endpoint. */
  admin: number;
}

/** A served route, as in the spec. */
export interface RouteSummary {
  method: string;
  /** Path template. */
  path: string;
  operationId: string;
  entity: string;
  keyFields: readonly string[];
}

/** The running server, as resolved by {@link startMockServer}. */
export interface MockServer {
  /** Base URL, e.g. `http://127.0.0.1:54321` (plus `basePath`). No trailing slash. */
  readonly url: string;
  readonly port: number;
  readonly host: string;
  /** Accepted credentials and ready-made headers. */
  readonly credentials: MockCredentials;
  /** What each database holds. */
  readonly store: MockStore;
  /** Fault injection. */
  readonly faults: FaultController;
  /** A snapshot of the counters (a fresh object per read). */
  readonly stats: MockStats;
  /** The batch routes served, from the spec. */
  readonly routes: readonly RouteSummary[];
  /** Current rate limit, or false. */
  readonly rateLimit: Required<RateLimitOptions> | false;
  /** Changes the rate limit (and refills the bucket). */
  setRateLimit(options: RateLimitOptions | false): void;
  /** Clears the store, the faults and the counters, and refills the rate-limit bucket. */
  reset(): void;
  /** Stops listening and closes open connections. */
  close(): Promise<void>;
  /** The underlying Node server. */
  readonly server: Server;
}

interface CompiledRoute {
  info: RouteInfo;
  validators: RouteValidators;
  /** Path parameters that must equal a record field: [param index, record field]. */
  bindings: Array<{ param: string; field: string }>;
  responseTypes: ReadonlySet<string>;
  requestTypes: readonly string[];
}

/** Internal state shared with the admin handler. */
export interface ServerState {
  store: RecordStore;
  faults: FaultRegistry;
  bucket: TokenBucket;
  stats: MockStats;
  routes: readonly RouteSummary[];
  reset(): void;
  snapshotStats(): MockStats;
}

function newStats(): MockStats {
  return {
    requests: 0,
    byStatus: {},
    rateLimited: 0,
    records: { created: 0, updated: 0, failed: 0, omitted: 0 },
    faultsInjected: 0,
    connectionsReset: 0,
    admin: 0,
  };
}

function toList(value: string | readonly string[] | undefined, fallback: string): string[] {
  if (value === undefined) return [fallback];
  const list = typeof value === "string" ? [value] : [...value];
  if (list.length === 0 || list.some((v) => typeof v !== "string" || v.length === 0)) {
    throw new TypeError("credentials must be non-empty strings");
  }
  return list;
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

const ACTIVITY_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUV";

function activityPrefix(): string {
  const bytes = randomBytes(13);
  let out = "";
  for (const b of bytes) out += ACTIVITY_ALPHABET[b & 31];
  return out;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Why the body could not be read. */
type BodyResult = { ok: true; text: string } | { ok: false; reason: "too-large" | "aborted" };

/** Reads the body up to `limit` bytes; stops reading (without buffering more) past it. */
function readBody(req: IncomingMessage, limit: number): Promise<BodyResult> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (result: BodyResult) => {
      if (done) return;
      done = true;
      req.off("data", onData);
      req.off("end", onEnd);
      req.off("error", onError);
      req.off("aborted", onError);
      resolve(result);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.pause();
        finish({ ok: false, reason: "too-large" });
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () =>
      finish({
        ok: true,
        text:
          chunks.length === 1
            ? (chunks[0] as Buffer).toString("utf8")
            : Buffer.concat(chunks, size).toString("utf8"),
      });
    const onError = () => finish({ ok: false, reason: "aborted" });
    req.on("data", onData);
    req.on("end", onEnd);
    req.on("error", onError);
    req.on("aborted", onError);
  });
}

/** Picks the 207 media type: text/plain unless application/json or text/json is asked for. */
function negotiate(accept: string | undefined, offered: ReadonlySet<string>): string {
  if (accept) {
    if (accept.includes("application/json") && offered.has("application/json"))
      return "application/json";
    if (accept.includes("text/json") && offered.has("text/json")) return "text/json";
  }
  if (offered.has("text/plain") || offered.size === 0) return "text/plain";
  return offered.values().next().value as string;
}

/** Whether a request Content-Type is one the operation accepts (wildcards like `application/*+json` allowed). */
function acceptsMediaType(contentType: string, accepted: readonly string[]): boolean {
  const base = (contentType.split(";")[0] as string).trim().toLowerCase();
  for (const type of accepted) {
    if (type === base) return true;
    const star = type.indexOf("*");
    if (star >= 0) {
      const prefix = type.slice(0, star);
      const suffix = type.slice(star + 1);
      if (base.length > type.length - 1 && base.startsWith(prefix) && base.endsWith(suffix))
        return true;
    }
  }
  return false;
}

function loadSpec(spec: MockServerOptions["spec"]): OpenApiDocument {
  if (spec === undefined) return loadBundledSpec();
  if (typeof spec === "string") return JSON.parse(readFileSync(spec, "utf8")) as OpenApiDocument;
  return spec;
}

/**
 * Starts the reference server.
 *
 * @example
 * ```ts
 * const server = await startMockServer({ rateLimit: false });
 * const res = await fetch(`${server.url}/tolerances-batch`, {
 *   method: "PUT",
 *   headers: { ...server.credentials.headers, "vbasoftware-database": "testdb", "content-type": "application/json" },
 *   body: JSON.stringify([{ tolerance_Key: 1, tolerance1: 2.5 }]),
 * });
 * server.store.list("testdb", "Tolerance"); // [{ id: [{ key: "tolerance_Key", value: 1 }], body: {...}, writes: 1, ... }]
 * await server.close();
 * ```
 */
export async function startMockServer(options: MockServerOptions = {}): Promise<MockServer> {
  const model: SpecModel = buildSpecModel(loadSpec(options.spec));
  const validators = compileValidators(model.routes);
  const compiled: CompiledRoute[] = model.routes.map((info) => ({
    info,
    validators: validators.get(info) as RouteValidators,
    bindings: info.pathParams
      .filter((p) => p.recordField !== undefined)
      .map((p) => ({ param: p.name, field: p.recordField as string })),
    responseTypes: new Set(info.responseMediaTypes),
    requestTypes: info.requestMediaTypes,
  }));
  const staticRoutes = new Map<string, CompiledRoute[]>();
  const dynamicRoutes: CompiledRoute[] = [];
  for (const route of compiled) {
    if (route.info.pathParamNames.length === 0) {
      const list = staticRoutes.get(route.info.template) ?? [];
      list.push(route);
      staticRoutes.set(route.info.template, list);
    } else {
      dynamicRoutes.push(route);
    }
  }
  const routes: RouteSummary[] = model.routes.map((r) => ({
    method: r.method,
    path: r.template,
    operationId: r.operationId,
    entity: r.entity,
    keyFields: r.keyFields,
  }));

  const apiKeys = toList(options.apiKeys, DEFAULT_API_KEY);
  const tokens = toList(options.tokens, DEFAULT_TOKEN);
  const apiKeySet = new Set(apiKeys);
  const tokenSet = new Set(tokens);
  const validateToken = options.validateToken ?? ((token: string) => tokenSet.has(token));
  const adminHeader = (options.adminHeader ?? DEFAULT_ADMIN_HEADER).toLowerCase();
  const adminToken =
    options.adminToken === false
      ? null
      : (options.adminToken ?? randomBytes(18).toString("base64url"));
  if (adminToken !== null && adminToken.length === 0)
    throw new TypeError("adminToken must not be empty");
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  if (!(maxBodyBytes > 0)) throw new RangeError("maxBodyBytes must be > 0");
  const maxErrors = options.maxErrors ?? 20;
  // How much of an over-long body is read and discarded before the connection is dropped.
  const discardCap = Math.max(4 * maxBodyBytes, 64 * 1024 * 1024);
  const basePath = (options.basePath ?? "").replace(/\/+$/, "");
  if (basePath && !basePath.startsWith("/")) throw new TypeError("basePath must start with /");
  const adminPrefix = `${basePath}/__admin`;
  const log = options.log;

  const keyFieldsByEntity = new Map<string, readonly string[]>();
  for (const r of model.routes) keyFieldsByEntity.set(r.entity, r.keyFields);
  const store = new RecordStore(keyFieldsByEntity);
  const faults = new FaultRegistry(options.random);
  const bucket = new TokenBucket(options.rateLimit);
  let stats = newStats();
  const prefix = activityPrefix();
  let activity = 0;
  const nextActivityId = () =>
    `${prefix}:${(++activity).toString(16).toUpperCase().padStart(8, "0")}`;

  // Which header each security check reads.
  const apiKeyHeaders = model.security.flatMap((c) =>
    c.kind === "apiKeyHeader" ? [c.header] : [],
  );
  const needsBearer = model.security.some((c) => c.kind === "bearer");

  const snapshotStats = (): MockStats => ({
    ...stats,
    byStatus: { ...stats.byStatus },
    records: { ...stats.records },
    faultsInjected: faults.injected,
  });

  const state: ServerState = {
    store,
    faults,
    bucket,
    get stats() {
      return stats;
    },
    routes,
    reset() {
      store.clear();
      faults.clear();
      faults.injected = 0;
      bucket.reset();
      stats = newStats();
    },
    snapshotStats,
  };

  const countStatus = (status: number) => {
    const key = String(status);
    stats.byStatus[key] = (stats.byStatus[key] ?? 0) + 1;
  };

  function send(
    res: ServerResponse,
    status: number,
    contentType: string,
    body: string,
    extra?: OutgoingHttpHeaders,
  ): void {
    if (res.headersSent || res.destroyed) return;
    countStatus(status);
    const headers: OutgoingHttpHeaders = {
      "content-type": contentType,
      "content-length": Buffer.byteLength(body),
    };
    if (extra) Object.assign(headers, extra);
    res.writeHead(status, headers);
    res.end(body);
  }

  function sendProblem(res: ServerResponse, p: ProblemDetails, extra?: OutgoingHttpHeaders): void {
    send(res, p.status, "application/problem+json", JSON.stringify(p), extra);
  }

  /**
   * Answers 413 for a body we will not buffer. The rest of the body is read and thrown away
   * (so that the client, still sending, gets to read the answer) up to `discardCap` bytes;
   * past that, or when the body is announced larger than that, the connection is dropped.
   */
  function rejectBody(req: IncomingMessage, res: ServerResponse, p: ProblemDetails): void {
    const announced = Number(req.headers["content-length"] ?? 0);
    if (announced > discardCap) {
      sendProblem(res, p, { connection: "close" });
      return;
    }
    sendProblem(res, p);
    let discarded = 0;
    req.on("data", (chunk: Buffer) => {
      discarded += chunk.length;
      if (discarded > discardCap) req.socket.destroy();
    });
    req.resume();
  }

  function resetSocket(req: IncomingMessage): void {
    stats.connectionsReset++;
    const socket = req.socket as IncomingMessage["socket"] & { resetAndDestroy?: () => void };
    if (typeof socket.resetAndDestroy === "function") socket.resetAndDestroy();
    else socket.destroy();
  }

  function matchRoute(path: string): { matched: CompiledRoute[]; params?: string[] } {
    const fixed = staticRoutes.get(path);
    if (fixed) return { matched: fixed };
    for (const route of dynamicRoutes) {
      const m = route.info.pattern.exec(path);
      if (m) {
        const matched = dynamicRoutes.filter((r) => r.info.template === route.info.template);
        return { matched, params: m.slice(1) };
      }
    }
    return { matched: [] };
  }

  async function handleApi(
    req: IncomingMessage,
    res: ServerResponse,
    path: string,
    entry: RequestLogEntry,
  ): Promise<void> {
    const method = req.method ?? "GET";
    const { matched, params } = matchRoute(path);
    if (matched.length === 0) {
      sendProblem(res, problem(404, "No such endpoint.", path));
      return;
    }
    const route = matched.find((r) => r.info.method === method);
    if (!route) {
      const allow = matched.map((r) => r.info.method).join(", ");
      sendProblem(res, problem(405, `Use ${allow} on this endpoint.`, path), { allow });
      return;
    }
    const info = route.info;
    entry.entity = info.entity;
    const headers = req.headers;

    // VBA's gatekeeping, in order: User-Agent, credentials, rate limit.
    if (!headers["user-agent"]) {
      sendProblem(res, problem(403, "A User-Agent header is required.", path));
      return;
    }
    for (const header of apiKeyHeaders) {
      const key = headers[header];
      if (typeof key !== "string" || !apiKeySet.has(key)) {
        sendProblem(res, problem(401, `The ${header} header is missing or invalid.`, path));
        return;
      }
    }
    if (needsBearer) {
      const auth = headers.authorization;
      if (!auth || auth.length < 8 || auth.slice(0, 7).toLowerCase() !== "bearer ") {
        sendProblem(
          res,
          problem(401, "A bearer token is required in the Authorization header.", path),
        );
        return;
      }
      let verdict: boolean | Promise<boolean>;
      try {
        verdict = validateToken(auth.slice(7).trim());
        if (typeof verdict !== "boolean") verdict = await verdict.then(Boolean, () => false);
      } catch {
        verdict = false; // a throwing validator refuses the token
      }
      if (!verdict) {
        sendProblem(res, problem(401, "The bearer token is invalid or has expired.", path));
        return;
      }
    }
    const taken = bucket.take();
    if (!taken.ok) {
      stats.rateLimited++;
      const limits = bucket.settings;
      const detail = limits
        ? `Rate limit of ${limits.ratePerSecond} requests per second (burst ${limits.burst}) exceeded.`
        : "Rate limit exceeded.";
      sendProblem(res, problem(429, detail, path), {
        "retry-after": String(taken.retryAfterSeconds),
      });
      return;
    }

    const databaseHeader = headers["vbasoftware-database"];
    const ctx: RequestContext = {
      path,
      template: info.template,
      entity: info.entity,
      database: typeof databaseHeader === "string" ? databaseHeader : "",
    };
    const anyFaults = !faults.empty;
    if (anyFaults) {
      const fail = faults.take("status", ctx);
      if (fail) {
        entry.fault = "status";
        const extra: OutgoingHttpHeaders = {};
        if (fail.retryAfter !== undefined) extra["retry-after"] = String(fail.retryAfter);
        sendProblem(res, problem(fail.status, fail.detail ?? "Injected failure.", path), extra);
        return;
      }
    }

    // Header parameters from the spec (vbasoftware-database).
    for (const param of info.headerParams) {
      const name = param.name.toLowerCase();
      const value = headers[name];
      if (value === undefined) {
        if (param.required) {
          sendProblem(res, problem(400, `The ${param.name} header is required.`, path));
          return;
        }
        continue;
      }
      const check = route.validators.headerParams.get(name);
      if (check && !check(value)) {
        const msg = check.errors?.[0]?.message ?? "is invalid";
        sendProblem(res, problem(400, `header ${param.name}: ${msg}`, path));
        return;
      }
    }
    // Path parameters from the spec (providerCredKey).
    const pathValues = new Map<string, unknown>();
    for (let i = 0; i < info.pathParamNames.length; i++) {
      const name = info.pathParamNames[i] as string;
      const param = info.pathParams[i];
      let text: string;
      try {
        text = decodeURIComponent(params?.[i] ?? "");
      } catch {
        sendProblem(
          res,
          problem(400, `path parameter ${name}: is not valid percent-encoding`, path),
        );
        return;
      }
      const value = param ? coerceParam(text, param.schema) : text;
      const check = route.validators.pathParams.get(name);
      if (check && !check(value)) {
        const msg = check.errors?.[0]?.message ?? "is invalid";
        sendProblem(res, problem(400, `path parameter ${name}: ${msg}`, path));
        return;
      }
      pathValues.set(name, value);
    }
    const contentType = headers["content-type"];
    if (contentType && !acceptsMediaType(contentType, route.requestTypes)) {
      sendProblem(
        res,
        problem(415, `Send the body as one of: ${route.requestTypes.join(", ")}.`, path),
      );
      return;
    }
    const declared = headers["content-length"];
    if (declared !== undefined && Number(declared) > maxBodyBytes) {
      rejectBody(
        req,
        res,
        problem(413, `The body exceeds the limit of ${maxBodyBytes} bytes.`, path),
      );
      return;
    }
    const read = await readBody(req, maxBodyBytes);
    if (!read.ok) {
      if (read.reason === "too-large") {
        rejectBody(
          req,
          res,
          problem(413, `The body exceeds the limit of ${maxBodyBytes} bytes.`, path),
        );
      }
      return; // aborted: nobody to answer
    }

    if (anyFaults) {
      const wait = faults.take("delay", ctx, "before-apply");
      if (wait) await sleep(wait.ms);
    }

    let body: unknown;
    try {
      body = JSON.parse(read.text);
    } catch {
      const detail =
        read.text.trim() === ""
          ? "The body is empty; send a JSON array of records."
          : "The body is not valid JSON.";
      sendProblem(res, problem(400, detail, path));
      return;
    }
    const invalid = validateBody(route.validators, body, maxErrors);
    if (invalid) {
      const p = problem(400, describeErrors(invalid.errors, invalid.total), path);
      p.errors = invalid.errors;
      sendProblem(res, p);
      return;
    }
    const records = body as Array<Record<string, unknown>>;
    entry.records = records.length;

    if (anyFaults) {
      const reset = faults.take("reset-connection", ctx, "before-apply");
      if (reset) {
        entry.fault = "reset-connection";
        resetSocket(req);
        return;
      }
    }

    // Apply, in input order.
    const recordFaults = anyFaults && faults.hasRecordFaults(ctx);
    const keyFields = info.keyFields;
    const database = ctx.database;
    const data: Array<{ id: KeyValue[]; status: number; body: string }> = [];
    let failed = 0;
    for (let i = 0; i < records.length; i++) {
      const record = records[i] as Record<string, unknown>;
      const id: KeyValue[] = new Array(keyFields.length);
      const values: unknown[] = new Array(keyFields.length);
      for (let k = 0; k < keyFields.length; k++) {
        const field = keyFields[k] as string;
        values[k] = record[field];
        id[k] = { key: field, value: record[field] };
      }
      let mismatch: string | undefined;
      for (const binding of route.bindings) {
        if (record[binding.field] !== pathValues.get(binding.param)) {
          mismatch = `${binding.field} does not match the ${binding.param} path parameter.`;
          break;
        }
      }
      if (mismatch) {
        failed++;
        stats.records.failed++;
        data.push({ id, status: 400, body: mismatch });
        continue;
      }
      if (recordFaults) {
        const decision = faults.decideRecord(ctx, record, i);
        if (decision?.kind === "fail") {
          failed++;
          stats.records.failed++;
          if (decision.omit) stats.records.omitted++;
          else data.push({ id, status: decision.status, body: decision.message });
          continue;
        }
        if (decision?.kind === "omit") {
          const outcome = store.upsert(database, info.entity, id, keyString(values), record);
          stats.records[outcome]++;
          stats.records.omitted++;
          continue;
        }
      }
      const outcome = store.upsert(database, info.entity, id, keyString(values), record);
      if (outcome === "created") {
        stats.records.created++;
        data.push({ id, status: 201, body: "Created" });
      } else {
        stats.records.updated++;
        data.push({ id, status: 200, body: "Updated" });
      }
    }

    if (anyFaults) {
      const reset = faults.take("reset-connection", ctx, "after-apply");
      if (reset) {
        entry.fault = "reset-connection";
        resetSocket(req);
        return;
      }
      const wait = faults.take("delay", ctx, "after-apply");
      if (wait) await sleep(wait.ms);
    }

    const envelope: {
      data: typeof data;
      error?: ProblemDetails;
      debug: { activityID: string };
    } = { data, debug: { activityID: nextActivityId() } };
    if (failed > 0) {
      envelope.error = problem(
        207,
        `${failed} of ${records.length} records failed; see data for each record's status.`,
        path,
      );
      envelope.error.title = "Some records failed";
      envelope.error.type = "about:blank";
    }
    const mediaType = `${negotiate(headers.accept, route.responseTypes)}; charset=utf-8`;
    let text = JSON.stringify(envelope);
    let status = 207;
    if (anyFaults) {
      const broken = faults.take("bad-body", ctx);
      if (broken) {
        entry.fault = "bad-body";
        status = broken.status ?? 207;
        text =
          broken.body === "truncated"
            ? text.slice(0, Math.max(1, Math.floor(text.length / 2)))
            : "<html><body><h1>502 Bad Gateway</h1></body></html>";
      }
    }
    send(res, status, mediaType, text);
  }

  const server = createServer({ keepAlive: true }, (req, res) => {
    const started = performance.now();
    const rawUrl = req.url ?? "/";
    const q = rawUrl.indexOf("?");
    let path = q >= 0 ? rawUrl.slice(0, q) : rawUrl;
    const entry: RequestLogEntry = { method: req.method ?? "", path, status: 0, durationMs: 0 };
    if (log) {
      res.once("close", () => {
        entry.status = res.headersSent ? res.statusCode : 0;
        entry.durationMs = performance.now() - started;
        try {
          log(entry);
        } catch {
          // a failing logger must not take the server down
        }
      });
    }
    const isAdmin =
      adminToken !== null && (path === adminPrefix || path.startsWith(`${adminPrefix}/`));
    if (isAdmin) {
      stats.admin++;
      const given = req.headers[adminHeader];
      if (typeof given !== "string" || !safeEqual(given, adminToken)) {
        const p = problem(401, `The ${adminHeader} header is missing or invalid.`, path);
        res.writeHead(401, { "content-type": "application/problem+json" });
        res.end(JSON.stringify(p));
        return;
      }
      handleAdmin(req, res, path.slice(adminPrefix.length) || "/", state).catch(() => {
        if (!res.headersSent) {
          res.writeHead(500, { "content-type": "application/problem+json" });
          res.end(JSON.stringify(problem(500, "Admin request failed.", path)));
        }
      });
      return;
    }
    stats.requests++;
    if (basePath) {
      if (path !== basePath && !path.startsWith(`${basePath}/`)) {
        sendProblem(res, problem(404, "No such endpoint.", path));
        return;
      }
      path = path.slice(basePath.length);
    }
    handleApi(req, res, path, entry).catch(() => {
      // Not reachable by bad input; kept so that a bug answers 500 instead of crashing.
      sendProblem(res, problem(500, "The mock server failed to handle the request.", path));
    });
  });
  server.on("clientError", (_err, socket) => {
    if (socket.writable) {
      socket.end("HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n");
    } else {
      socket.destroy();
    }
  });

  const host = options.host ?? "127.0.0.1";
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const urlHost = host.includes(":") ? `[${host}]` : host;
  const credentials: MockCredentials = {
    apiKey: apiKeys[0] as string,
    apiKeys,
    token: tokens[0] as string,
    tokens,
    adminToken,
    adminHeader,
    headers: {
      "x-api-key": apiKeys[0] as string,
      authorization: `Bearer ${tokens[0]}`,
      "user-agent": "vbapi-mock-client",
    },
    adminHeaders: adminToken === null ? {} : { [adminHeader]: adminToken },
  };

  let closing: Promise<void> | undefined;
  return {
    url: `http://${urlHost}:${port}${basePath}`,
    port,
    host,
    credentials,
    store,
    faults,
    get stats() {
      return snapshotStats();
    },
    routes,
    get rateLimit() {
      return bucket.settings;
    },
    setRateLimit(limit) {
      bucket.configure(limit);
    },
    reset: () => state.reset(),
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
    server,
  };
}
