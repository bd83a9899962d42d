// The admin endpoint under `/__admin` (token-protected by the server before it gets here).
import type { IncomingMessage, ServerResponse } from "node:http";
import type { FaultSpec } from "./fault-spec.ts";
import type { LatencyOptions } from "./latency.ts";
import { problem } from "./problem.ts";
import type { RateLimitOptions } from "./rate-limit.ts";
import type { ServerState } from "./state.ts";

const ADMIN_BODY_LIMIT = 1024 * 1024;

/** Routes of the admin endpoint, relative to `/__admin` (also served at `GET /__admin`). */
export const ADMIN_ROUTES = [
  "GET    /__admin                          this list",
  "GET    /__admin/stats                    counters",
  "GET    /__admin/routes                   the batch routes served",
  "GET    /__admin/store                    record counts per database and entity",
  "GET    /__admin/store/{database}/{entity} records of one entity, in insertion order",
  "DELETE /__admin/store                    forget every record",
  "GET    /__admin/faults                   active faults",
  "POST   /__admin/faults                   add a fault (a FaultSpec, or an array of them)",
  "DELETE /__admin/faults                   remove every fault",
  "DELETE /__admin/faults/{id}              remove one fault",
  "GET    /__admin/rate-limit               current rate limit (false when off)",
  "PUT    /__admin/rate-limit               {requestsPerSecond, burst} or false",
  "GET    /__admin/latency                  current simulated latency (false when off)",
  "PUT    /__admin/latency                  {fixedMs, jitterMs} or false",
  "POST   /__admin/reset                    clear store, faults and counters",
] as const;

function json(res: ServerResponse, status: number, value: unknown): void {
  const text = JSON.stringify(value);
  res.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(text),
  });
  res.end(text);
}

function fail(res: ServerResponse, status: number, detail: string, path: string): void {
  const text = JSON.stringify(problem(status, detail, path));
  res.writeHead(status, {
    "content-type": "application/problem+json",
    "content-length": Buffer.byteLength(text),
  });
  res.end(text);
}

async function readJson(
  req: IncomingMessage,
): Promise<{ ok: true; value: unknown } | { ok: false; detail: string }> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > ADMIN_BODY_LIMIT) return { ok: false, detail: "Admin body too large." };
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString("utf8");
  if (text.trim() === "") return { ok: true, value: undefined };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false, detail: "The body is not valid JSON." };
  }
}

/** Handles one admin request. `sub` is the path below `/__admin` ("/" for the index). */
export async function handleAdmin(
  req: IncomingMessage,
  res: ServerResponse,
  sub: string,
  state: ServerState,
): Promise<void> {
  const method = req.method ?? "GET";
  const path = `/__admin${sub === "/" ? "" : sub}`;
  const parts = sub
    .split("/")
    .filter((p) => p !== "")
    .map((p) => {
      try {
        return decodeURIComponent(p);
      } catch {
        return p;
      }
    });
  const [head, ...rest] = parts;

  if (head === undefined && method === "GET") return json(res, 200, { routes: ADMIN_ROUTES });
  if (head === "stats" && method === "GET" && rest.length === 0) {
    return json(res, 200, state.snapshotStats());
  }
  if (head === "routes" && method === "GET" && rest.length === 0) {
    return json(res, 200, state.routes);
  }
  if (head === "reset" && method === "POST" && rest.length === 0) {
    state.reset();
    return json(res, 200, { reset: true });
  }
  if (head === "store") {
    if (method === "DELETE" && rest.length === 0) {
      state.store.clear();
      return json(res, 200, { cleared: true });
    }
    if (method === "GET" && rest.length === 0) {
      const databases: Record<string, Record<string, number>> = {};
      for (const db of state.store.databases()) databases[db] = state.store.summary(db);
      return json(res, 200, { databases });
    }
    if (method === "GET" && rest.length === 1) {
      return json(res, 200, {
        database: rest[0],
        entities: state.store.summary(rest[0] as string),
      });
    }
    if (method === "GET" && rest.length === 2) {
      const [database, entity] = rest as [string, string];
      if (!state.store.entities().includes(entity)) {
        return fail(
          res,
          404,
          `Unknown entity; use one of ${state.store.entities().join(", ")}.`,
          path,
        );
      }
      return json(res, 200, {
        database,
        entity,
        count: state.store.count(database, entity),
        totalWrites: state.store.totalWrites(database, entity),
        records: state.store.list(database, entity),
      });
    }
  }
  if (head === "faults") {
    if (method === "GET" && rest.length === 0)
      return json(res, 200, { faults: state.faults.list() });
    if (method === "DELETE" && rest.length === 0) {
      state.faults.clear();
      return json(res, 200, { cleared: true });
    }
    if (method === "DELETE" && rest.length === 1) {
      const removed = state.faults.remove(rest[0] as string);
      return removed
        ? json(res, 200, { removed: rest[0] })
        : fail(res, 404, "No such fault.", path);
    }
    if (method === "POST" && rest.length === 0) {
      const body = await readJson(req);
      if (!body.ok) return fail(res, 400, body.detail, path);
      const specs = Array.isArray(body.value) ? body.value : [body.value];
      const added: string[] = [];
      try {
        for (const spec of specs) {
          const where = Array.isArray(body.value) ? `fault ${added.length}: ` : "";
          try {
            if (spec === null || typeof spec !== "object" || Array.isArray(spec))
              throw new TypeError("a fault must be an object");
            if ("predicate" in spec)
              throw new TypeError("predicate is only available programmatically");
            added.push(state.faults.add(spec as FaultSpec).id);
          } catch (error) {
            throw new TypeError(`${where}${(error as Error).message}`);
          }
        }
      } catch (error) {
        for (const id of added) state.faults.remove(id);
        return fail(res, 400, (error as Error).message, path);
      }
      return json(res, 201, { ids: added, faults: state.faults.list() });
    }
  }
  if (head === "rate-limit" && rest.length === 0) {
    if (method === "GET") return json(res, 200, { rateLimit: state.rateLimiter.settings });
    if (method === "PUT") {
      const body = await readJson(req);
      if (!body.ok) return fail(res, 400, body.detail, path);
      const value = body.value as RateLimitOptions | false | null | undefined;
      try {
        if (value === false || value === null) state.rateLimiter.configure(false);
        else if (typeof value === "object" && !Array.isArray(value))
          state.rateLimiter.configure(value);
        else throw new TypeError("send {requestsPerSecond, burst} or false");
      } catch (error) {
        return fail(res, 400, (error as Error).message, path);
      }
      return json(res, 200, { rateLimit: state.rateLimiter.settings });
    }
  }
  if (head === "latency" && rest.length === 0) {
    if (method === "GET") return json(res, 200, { latency: state.latency.settings });
    if (method === "PUT") {
      const body = await readJson(req);
      if (!body.ok) return fail(res, 400, body.detail, path);
      try {
        state.latency.configure((body.value ?? false) as LatencyOptions | false);
      } catch (error) {
        return fail(res, 400, (error as Error).message, path);
      }
      return json(res, 200, { latency: state.latency.settings });
    }
  }
  return fail(res, 404, "No such admin route; GET /__admin lists them.", path);
}
