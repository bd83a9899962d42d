// One worker process of the end-to-end tests (issue 14): a real @vbapi-sdk/client that shares
// one API key's rate budget (createRedisRateLimiter) and one login (passwordLogin with
// createRedisTokenCache) with its sibling processes, and loads its own events with
// upsertAllEvents against the reference server. Exactly what the README's example does.
//
// argv[2]: JSON LoadWorkerConfig. Messages out: {type:"ready"}, {type:"answer", t, status} after
// every HTTP answer of a batch request, {type:"log", level, message} for every warning of the
// limiter, the token cache and the client, and {type:"done", ...} with the report's totals.
// Message in: {type:"go"} starts the load (so that every worker starts together).

import {
  createVbapiClient,
  type EntityRecord,
  passwordLogin,
  upsertAllEvents,
} from "@vbapi-sdk/client";
import { Redis } from "ioredis";
import { createRedisRateLimiter, createRedisTokenCache } from "../src/index.ts";

export interface LoadWorkerConfig {
  /** The reference server's URL. */
  baseUrl: string;
  redisUrl: string;
  apiKey: string;
  username: string;
  password: string;
  clientId: string;
  clientCode: string;
  database: string;
  /** This worker loads events firstEventId .. firstEventId + events - 1. */
  firstEventId: number;
  events: number;
  chunkSize: number;
  requestsPerSecond: number;
  burst: number;
  expectedProcesses: number;
  renewBeforeMs?: number;
  /** Requests in flight (default: the engine's adaptive concurrency). */
  concurrency?: number;
  commandTimeoutMs?: number;
  reconnectIntervalMs?: number;
}

export interface LoadWorkerDone {
  type: "done";
  totals: { total: number; created: number; updated: number; failed: number; notAttempted: number };
  requests: number;
  retries: number;
  rateLimited: number;
  elapsedMs: number;
  /** Wall-clock ms (performance.timeOrigin based) when upsertAllEvents resolved. */
  finishedAt: number;
  limiter: { acquired: number; rateLimited: number; backend: string; fallbacks: number };
  /** Messages of the records that did not succeed (at most 5; never record contents). */
  failures: string[];
}

export type LoadWorkerMessage =
  | { type: "ready" }
  | { type: "answer"; t: number; status: number }
  | { type: "log"; level: "warn" | "info" | "error"; message: string }
  | LoadWorkerDone;

const wallClock = () => performance.timeOrigin + performance.now();

function* events(first: number, count: number): Generator<EntityRecord<"Event">> {
  for (let id = first; id < first + count; id++) {
    yield {
      event_ID: id,
      claim_Audit_Event: false,
      process_Automation_Event: false,
      reminder: id % 2 === 0,
      subject: `load ${id}`,
    };
  }
}

async function main(): Promise<void> {
  const c = JSON.parse(process.argv[2] ?? "{}") as LoadWorkerConfig;
  // Nothing is sent once the parent has closed the channel (a renewal may log after the run).
  const send = (m: LoadWorkerMessage) => {
    if (process.connected) process.send?.(m);
  };
  const logger = {
    warn: (message: string) => send({ type: "log", level: "warn", message }),
    info: (message: string) => send({ type: "log", level: "info", message }),
  };

  // One connection for both; ours, so we close it. maxRetriesPerRequest: 1 makes a command fail
  // soon when Redis is gone (the limiter then falls back) instead of queueing for ever.
  const redis = new Redis(c.redisUrl, { maxRetriesPerRequest: 1 });
  redis.on("error", () => {}); // outages reach the limiter and the cache through failed commands
  const limiter = createRedisRateLimiter({
    redis,
    apiKey: c.apiKey,
    requestsPerSecond: c.requestsPerSecond,
    burst: c.burst,
    fallback: { expectedProcesses: c.expectedProcesses },
    logger,
    ...(c.commandTimeoutMs !== undefined && { commandTimeoutMs: c.commandTimeoutMs }),
    ...(c.reconnectIntervalMs !== undefined && { reconnectIntervalMs: c.reconnectIntervalMs }),
  });
  const cache = createRedisTokenCache({
    redis,
    logger,
    ...(c.commandTimeoutMs !== undefined && { commandTimeoutMs: c.commandTimeoutMs }),
  });
  // Stopped when the run is over: a renewal under way ends (releasing the shared lock).
  const stopLogin = new AbortController();
  const token = passwordLogin({
    signal: stopLogin.signal,
    baseUrl: c.baseUrl,
    apiKey: c.apiKey,
    username: c.username,
    password: c.password,
    clientId: c.clientId,
    clientCode: c.clientCode,
    database: c.database,
    cache,
    ...(c.renewBeforeMs !== undefined && { renewBeforeMs: c.renewBeforeMs }),
  });
  const client = createVbapiClient({
    baseUrl: c.baseUrl,
    apiKey: c.apiKey,
    database: c.database,
    token,
    limiter,
    logger: { ...logger, debug: () => {}, error: (message: string) => logger.warn(message) },
    // Instrumentation only: the real fetch, plus the moment and status of every answer.
    fetch: async (input, init) => {
      const response = await fetch(input, init);
      if (!String(input).endsWith("/user-authentication")) {
        send({ type: "answer", t: wallClock(), status: response.status });
      }
      return response;
    },
  });

  await new Promise<void>((resolve) => {
    process.on("message", (m: { type?: string }) => {
      if (m?.type === "go") resolve();
    });
    send({ type: "ready" });
  });

  const records = [...events(c.firstEventId, c.events)];
  const report = await upsertAllEvents(client, records, {
    chunkSize: c.chunkSize,
    ...(c.concurrency !== undefined && { concurrency: c.concurrency }),
  });
  const finishedAt = wallClock();
  const stats = limiter.stats();
  send({
    type: "done",
    totals: report.totals,
    requests: report.requests,
    retries: report.retries,
    rateLimited: report.rateLimited,
    elapsedMs: report.elapsedMs,
    finishedAt,
    limiter: {
      acquired: stats.acquired,
      rateLimited: stats.rateLimited,
      backend: stats.backend,
      fallbacks: stats.fallbacks,
    },
    failures: report.items
      .filter((i) => i.outcome === "failed" || i.outcome === "not_attempted")
      .slice(0, 5)
      .map((i) => `#${i.index} ${i.outcome} ${i.status}: ${i.message}`),
  });
  stopLogin.abort();
  await limiter.close();
  await cache.close();
  redis.disconnect();
  process.disconnect?.();
}

main().catch((error) => {
  console.error(error instanceof Error ? `${error.name}: ${error.message}` : "worker failed");
  process.exit(1);
});
