// startMockServer: wires the parts together (spec -> routes, gatekeeping, batch handler,
// admin endpoint, state) behind one node:http server, and hands out the MockServer object.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { handleAdmin } from "./admin.ts";
import { BatchHandler } from "./batch.ts";
import type { FaultController } from "./faults.ts";
import { Gatekeeper, safeEqual, staticTokenCheck, type TokenCheck } from "./gate.ts";
import { Responder } from "./http.ts";
import { TokenIssuer } from "./jwt.ts";
import type { LatencyOptions } from "./latency.ts";
import { LoginHandler } from "./login.ts";
import {
  type MockServerOptions,
  type MockUser,
  type RequestLogEntry,
  type ResolvedOptions,
  resolveOptions,
} from "./options.ts";
import { problem } from "./problem.ts";
import type { RateLimitOptions } from "./rate-limit.ts";
import { type RouteSummary, RouteTable } from "./routes.ts";
import { buildSpecModel, loadBundledSpec, type OpenApiDocument, type SpecModel } from "./spec.ts";
import { type MockStats, ServerState } from "./state.ts";
import type { MockStore } from "./store.ts";

/** Credentials the server accepts, and ready-made headers. */
export interface MockCredentials {
  /** The first accepted API key. */
  apiKey: string;
  /** Every accepted API key. */
  apiKeys: readonly string[];
  /**
   * The first accepted static bearer token (meaningless when `validateToken` decides; `""` in
   * login mode, where only ID tokens from the login are accepted).
   */
  token: string;
  /** Every accepted static bearer token (empty in login mode). */
  tokens: readonly string[];
  /** The users who may log in (empty unless login mode). */
  users: readonly MockUser[];
  /** Admin token, or `null` when the admin endpoint is disabled. */
  adminToken: string | null;
  /** Header carrying the admin token. */
  adminHeader: string;
  /**
   * `x-api-key`, `authorization` and `user-agent` headers that pass the gatekeeping (no
   * `authorization` in login mode: log in, or use `issueToken`).
   */
  headers: Readonly<Record<string, string>>;
  /** The admin header, ready to spread into fetch headers (empty when disabled). */
  adminHeaders: Readonly<Record<string, string>>;
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
  /** Changes the rate limit (and refills every key's bucket). */
  setRateLimit(options: RateLimitOptions | false): void;
  /** Current login rate limit (per API key), or false. */
  readonly loginRateLimit: Required<RateLimitOptions> | false;
  /** Changes the login rate limit (and refills every key's login bucket). */
  setLoginRateLimit(options: RateLimitOptions | false): void;
  /** Lifetime of the ID tokens the login issues. */
  readonly tokenLifetimeMs: number;
  /**
   * Login mode only: an ID token for a configured user without a login (not counted as one),
   * e.g. an already expired one (`lifetimeMs: -1000`). Throws for an unknown username.
   */
  issueToken(username: string, options?: { database?: string; lifetimeMs?: number }): string;
  /** Current simulated latency, or false when off. */
  readonly latency: Required<LatencyOptions> | false;
  /** Changes the simulated latency (`false` or zeros: none). Applies to requests arriving after. */
  setLatency(options: LatencyOptions | false): void;
  /** Clears the store, the faults and the counters, and refills the rate-limit buckets. */
  reset(): void;
  /** Stops listening and closes open connections. */
  close(): Promise<void>;
  /** The underlying Node server. */
  readonly server: Server;
}

/** Login mode: the bearer token must be an unexpired ID token this server issued. */
function issuedTokenCheck(issuer: TokenIssuer): TokenCheck {
  return async (token) => {
    const verdict = issuer.verify(token);
    if (verdict.ok) return null;
    return verdict.reason === "expired"
      ? "The bearer token has expired; log in again."
      : "The bearer token is invalid: it was not issued by this server.";
  };
}

/** Routes one request: admin, or API (route lookup, gatekeeping, batch handler). */
function createDispatcher(
  options: ResolvedOptions,
  model: SpecModel,
  table: RouteTable,
  state: ServerState,
  issuer: TokenIssuer,
) {
  const out = new Responder({
    onStatus: (status) => state.countStatus(status),
    onReset: () => state.stats.connectionsReset++,
    discardCap: options.discardCap,
  });
  const loginMode = options.users.length > 0;
  const tokenCheck = loginMode ? issuedTokenCheck(issuer) : staticTokenCheck(options.validateToken);
  const gate = new Gatekeeper(
    model.security,
    options.apiKeys,
    tokenCheck,
    state,
    options.databases,
  );
  const batch = new BatchHandler(state, out, options);
  const loginRoute = model.login;
  const login =
    loginRoute &&
    new LoginHandler(loginRoute, options.users, issuer, options.tokenLifetimeMs, gate, state, out);
  const { adminToken, adminHeader, basePath } = options;
  const adminPrefix = `${basePath}/__admin`;

  function serveAdmin(req: IncomingMessage, res: ServerResponse, path: string): void {
    state.stats.admin++;
    const given = req.headers[adminHeader];
    if (typeof given !== "string" || !safeEqual(given, adminToken as string)) {
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
  }

  async function serveApi(
    req: IncomingMessage,
    res: ServerResponse,
    path: string,
    entry: RequestLogEntry,
  ): Promise<void> {
    if (login && loginRoute && path === loginRoute.template) {
      const allow = loginRoute.method;
      if (req.method !== allow) {
        return out.problem(res, problem(405, `Use ${allow} on this endpoint.`, path), { allow });
      }
      return login.handle(req, res, path);
    }
    const { matched, params } = table.match(path);
    if (matched.length === 0) return out.problem(res, problem(404, "No such endpoint.", path));
    const route = matched.find((r) => r.info.method === req.method);
    if (!route) {
      const allow = matched.map((r) => r.info.method).join(", ");
      return out.problem(res, problem(405, `Use ${allow} on this endpoint.`, path), { allow });
    }
    entry.entity = route.info.entity;
    const refused = await gate.check(req.headers, path);
    if (refused) return out.problem(res, refused.problem, refused.headers);
    await batch.handle({ req, res, path, route, params, entry });
  }

  function dispatch(req: IncomingMessage, res: ServerResponse): void {
    const started = performance.now();
    const rawUrl = req.url ?? "/";
    const q = rawUrl.indexOf("?");
    let path = q >= 0 ? rawUrl.slice(0, q) : rawUrl;
    const entry: RequestLogEntry = { method: req.method ?? "", path, status: 0, durationMs: 0 };
    // A server clock set apart from the machine's shows in its Date header too.
    if (options.clockOffsetMs !== 0) {
      res.setHeader("date", new Date(Date.now() + options.clockOffsetMs).toUTCString());
    }
    const log = options.log;
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
    if (adminToken !== null && (path === adminPrefix || path.startsWith(`${adminPrefix}/`))) {
      serveAdmin(req, res, path);
      return;
    }
    state.stats.requests++;
    const delay = state.latency.sample();
    if (delay > 0) out.holdUntil(res, started + delay);
    if (basePath) {
      if (path !== basePath && !path.startsWith(`${basePath}/`)) {
        out.problem(res, problem(404, "No such endpoint.", path));
        return;
      }
      path = path.slice(basePath.length);
    }
    serveApi(req, res, path, entry).catch(() => {
      // Not reachable by bad input; kept so that a bug answers 500 instead of crashing.
      out.problem(res, problem(500, "The mock server failed to handle the request.", path));
    });
  }

  return dispatch;
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

function routesOf(spec: OpenApiDocument): { model: SpecModel; table: RouteTable } {
  const model = buildSpecModel(spec);
  return { model, table: new RouteTable(model) };
}

/**
 * The bundled spec's routes, compiled once per process: compiling their validators (Ajv) is most
 * of a server's start, and a process that starts many servers (a test suite) paid it for each.
 * Shared safely: the model and the table are only read once built (what a server hands out of
 * them, `server.routes` and their key fields, is frozen), and a validator's `errors` are read
 * right after the call that set them.
 */
let bundled: { model: SpecModel; table: RouteTable } | undefined;
function bundledRoutes(): { model: SpecModel; table: RouteTable } {
  bundled ??= routesOf(loadBundledSpec());
  return bundled;
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
  const resolved = resolveOptions(options);
  const { model, table } = resolved.spec ? routesOf(resolved.spec) : bundledRoutes();
  const state = new ServerState(table.summaries, table.keyFieldsByEntity, resolved);
  const offset = resolved.clockOffsetMs;
  const issuer = new TokenIssuer(() => Date.now() + offset, resolved.tokenIssuedAt);
  const server = createServer(
    { keepAlive: true },
    createDispatcher(resolved, model, table, state, issuer),
  );
  server.on("clientError", (_err, socket) => {
    if (socket.writable) {
      socket.end("HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n");
    } else {
      socket.destroy();
    }
  });
  const { host, apiKeys, tokens, users, adminToken, adminHeader } = resolved;
  const port = await listen(server, resolved.port, host);
  const urlHost = host.includes(":") ? `[${host}]` : host;
  const credentials: MockCredentials = {
    apiKey: apiKeys[0] as string,
    apiKeys,
    token: tokens[0] ?? "",
    tokens,
    users,
    adminToken,
    adminHeader,
    headers: {
      "x-api-key": apiKeys[0] as string,
      ...(tokens[0] === undefined ? {} : { authorization: `Bearer ${tokens[0]}` }),
      "user-agent": "vbapi-mock-client",
    },
    adminHeaders: adminToken === null ? {} : { [adminHeader]: adminToken },
  };

  let closing: Promise<void> | undefined;
  return {
    url: `http://${urlHost}:${port}${resolved.basePath}`,
    port,
    host,
    credentials,
    store: state.store,
    faults: state.faults,
    get stats() {
      return state.snapshotStats();
    },
    routes: state.routes,
    get rateLimit() {
      return state.rateLimiter.settings;
    },
    setRateLimit(limit) {
      state.rateLimiter.configure(limit);
    },
    get loginRateLimit() {
      return state.loginRateLimiter.settings;
    },
    setLoginRateLimit(limit) {
      state.loginRateLimiter.configure(limit);
    },
    tokenLifetimeMs: resolved.tokenLifetimeMs,
    issueToken(username, { database, lifetimeMs = resolved.tokenLifetimeMs } = {}) {
      const user = users.find(
        (u) =>
          u.username === username &&
          (database === undefined || u.database === undefined || u.database === database),
      );
      if (!user) throw new TypeError("issueToken: no such user (or not for that database)");
      return issuer.issue({ ...user, database: database ?? user.database ?? "" }, lifetimeMs);
    },
    get latency() {
      return state.latency.settings;
    },
    setLatency(latency) {
      state.latency.configure(latency);
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
