// Issue 14's "Done when", end to end: real worker processes, each a @vbapi-sdk/client with the
// Redis rate limiter and a passwordLogin token shared through the Redis token cache, loading
// events over loopback HTTP into the reference server (25 requests/s, burst 50, per API key),
// with a real redis-server. No mocks: the only custom fetch in a worker records when answers
// arrive and passes everything through.

import { randomUUID } from "node:crypto";
import { apiKeyId, type MockServer, startMockServer } from "@vbapi-sdk/mock-server";
import { type RedisServer, startRedisServer } from "@vbapi-sdk/tool-redis-harness";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { LoadWorkerConfig, LoadWorkerDone } from "../bench/load-worker.ts";
import { type LoadWorker, sleep, startLoadWorker, wallClock } from "./helpers.ts";

// The reference server's limit, as VBA's: 25 requests/s, bursts of 50, per API key.
const SERVER_RATE = { requestsPerSecond: 25, burst: 50 };
// The shared limiter: 25/s, burst 45 (five of VBA's 50 kept in hand against arrival jitter).
const RATE = 25;
const BURST = 45;
const WORKERS = 4;
const CHUNK = 10;
const DATABASE = "e2e";

/** The least time `requests` requests can take through a full bucket of `burst` at `rate`/s, in ms. */
export function minimumMs(requests: number, rate = RATE, burst = BURST): number {
  return (Math.max(0, requests - burst) / rate) * 1000;
}

let redis: RedisServer;
let mock: MockServer | undefined;
const workers: LoadWorker[] = [];

beforeAll(async () => {
  redis = await startRedisServer();
});
afterEach(async () => {
  for (const w of workers.splice(0)) {
    if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill("SIGKILL");
  }
  await mock?.close();
  mock = undefined;
});
afterAll(async () => {
  await redis?.stop();
});

interface Run {
  mock: MockServer;
  apiKey: string;
  started: LoadWorker[];
  goAt: number;
  configs: LoadWorkerConfig[];
}

async function startRun(options: {
  eventsPerWorker: number;
  tokenLifetimeMs?: number;
  renewBeforeMs?: number;
  commandTimeoutMs?: number;
  reconnectIntervalMs?: number;
}): Promise<Run> {
  const apiKey = `e2e-${randomUUID()}`;
  const user = {
    username: "loader",
    password: `pw-${randomUUID()}`,
    clientId: "client-e2e",
    clientCode: "E2E",
    database: DATABASE,
  };
  const server = await startMockServer({
    apiKeys: [apiKey],
    rateLimit: SERVER_RATE,
    users: [user],
    ...(options.tokenLifetimeMs !== undefined && { tokenLifetimeMs: options.tokenLifetimeMs }),
  });
  mock = server;
  const configs = Array.from(
    { length: WORKERS },
    (_, i): LoadWorkerConfig => ({
      baseUrl: server.url,
      redisUrl: redis.url,
      apiKey,
      ...user,
      firstEventId: 1 + i * 100_000,
      events: options.eventsPerWorker,
      chunkSize: CHUNK,
      requestsPerSecond: RATE,
      burst: BURST,
      expectedProcesses: WORKERS,
      ...(options.renewBeforeMs !== undefined && { renewBeforeMs: options.renewBeforeMs }),
      ...(options.commandTimeoutMs !== undefined && {
        commandTimeoutMs: options.commandTimeoutMs,
      }),
      ...(options.reconnectIntervalMs !== undefined && {
        reconnectIntervalMs: options.reconnectIntervalMs,
      }),
    }),
  );
  const started = configs.map((c) => startLoadWorker(c));
  workers.push(...started);
  await Promise.all(started.map((w) => w.ready));
  const goAt = wallClock();
  for (const w of started) w.go();
  return { mock: server, apiKey, started, goAt, configs };
}

/** Every event of the worker's range is in the reference server's store. */
function missingFromStore(server: MockServer, config: LoadWorkerConfig): number[] {
  const missing: number[] = [];
  for (let id = config.firstEventId; id < config.firstEventId + config.events; id++) {
    if (!server.store.get(DATABASE, "Event", { event_ID: id })) missing.push(id);
  }
  return missing;
}

function expectAllCreated(
  server: MockServer,
  config: LoadWorkerConfig,
  report: LoadWorkerDone | undefined,
): void {
  expect(report?.failures).toEqual([]);
  expect(report?.totals).toEqual({
    total: config.events,
    created: config.events,
    updated: 0,
    failed: 0,
    notAttempted: 0,
  });
  expect(missingFromStore(server, config)).toEqual([]);
}

describe("four processes, one API key, one Redis (issue 14)", () => {
  it("share the rate budget and the login: zero 429s, every record created, one login, time near the minimum", async () => {
    const events = 300; // x 4 workers in chunks of 10: 120 requests
    const run = await startRun({ eventsPerWorker: events });
    const reports = await Promise.all(run.started.map((w) => w.done));
    const end = Math.max(...reports.map((r) => r?.finishedAt ?? Number.NaN));
    const wallMs = end - run.goAt;

    const requests = (WORKERS * events) / CHUNK;
    const stats = run.mock.stats;
    expect(stats.byApiKey[apiKeyId(run.apiKey)]).toMatchObject({ requests, rateLimited: 0 });
    expect(stats.logins.succeeded).toBe(1);
    for (const [i, report] of reports.entries()) {
      expect(report?.rateLimited).toBe(0);
      expect(report?.requests).toBe(events / CHUNK);
      expectAllCreated(run.mock, run.configs[i] as LoadWorkerConfig, report);
    }
    const ratio = wallMs / minimumMs(requests);
    console.info(
      `e2e: ${requests} requests in ${Math.round(wallMs)} ms, minimum ${minimumMs(requests)} ms ` +
        `(burst ${BURST}): ratio ${ratio.toFixed(4)}; vs the server's own minimum ` +
        `${minimumMs(requests, 25, 50)} ms: ${(wallMs / minimumMs(requests, 25, 50)).toFixed(4)}`,
    );
    expect(wallMs).toBeGreaterThanOrEqual(minimumMs(requests) - 50);
    expect(ratio).toBeLessThanOrEqual(1.05);
  });
});
