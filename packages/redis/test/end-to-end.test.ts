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
// The shared limiter: 25/s.
const RATE = 25;
// The clients' shared bucket keeps twenty of the server's 50 in hand: on a loaded 2-core CI
// machine with four workers, a server, Redis and the rest of the suite (two test files at a time
// in several packages), a permit granted on time can reach the server late and bunch up with the
// next ones (45 kept only 200 ms in hand and 40 kept 400 ms: one 429 in CI each).
const BURST = 30;
const WORKERS = 4;
const CHUNK = 10;
const DATABASE = "e2e";

/** The least time `requests` requests can take through a full bucket of `burst` at `rate`/s, in ms. */
export function minimumMs(requests: number, rate = RATE, burst = BURST): number {
  return (Math.max(0, requests - burst) / rate) * 1000;
}

let redis: RedisServer;
/** 401 answers in the token-expiry run (read by the known-bug test after it). */
let expiredAnswers: number | undefined;
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
  concurrency?: number;
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
      ...(options.concurrency !== undefined && { concurrency: options.concurrency }),
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

async function until(condition: () => boolean, ms: number): Promise<void> {
  const deadline = performance.now() + ms;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`condition not met within ${ms} ms`);
    await sleep(10);
  }
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
  it("share the rate budget and the login: zero 429s, every record created, one login, no slower than a shared budget allows", async () => {
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
    // The whole budget is used: a shared limiter that loses permits between the processes, or
    // paces them below the rate (under about 19/s here), ends past 1.35x the minimum; spending
    // it twice over shows as 429s and an end before the minimum (above). How near the minimum
    // it gets (the 1.05x target) is a speed figure, measured by `pnpm bench` (multi-process) on
    // a machine the run does not share with a test suite: beside the rest of `pnpm test` on
    // 2 cores, CI saw 1.19x.
    expect(ratio).toBeLessThanOrEqual(1.35);
  });

  it("kill -9 of one worker mid-run: the others finish every record at full rate within a second, nothing deadlocks", async () => {
    const events = 400; // x 4 workers in chunks of 10: 160 requests, the victim's cut short
    const run = await startRun({ eventsPerWorker: events });
    // Past the burst (about 0.8 s in), the worker with the most left to do is the victim.
    await until(() => run.started.reduce((n, w) => n + w.answers.length, 0) >= 65, 5000);
    const byProgress = run.started
      .map((w, i) => ({ w, i }))
      .sort((a, b) => a.w.answers.length - b.w.answers.length);
    const victim = (byProgress[0] as { w: LoadWorker }).w;
    const survivors = byProgress.slice(1).map((s) => s.w);
    victim.child.kill("SIGKILL");
    const killedAt = wallClock();
    const reports = await Promise.all(survivors.map((w) => w.done));
    expect(await victim.done).toBeUndefined();
    expect(victim.child.signalCode).toBe("SIGKILL");

    for (const [k, report] of reports.entries()) {
      const { i } = byProgress[k + 1] as { i: number };
      expect(report?.rateLimited).toBe(0);
      expectAllCreated(run.mock, run.configs[i] as LoadWorkerConfig, report);
    }
    expect(run.mock.stats.byApiKey[apiKeyId(run.apiKey)]?.rateLimited).toBe(0);
    expect(run.mock.stats.logins.succeeded).toBe(1);

    // After the kill the bucket is empty (every worker was waiting for permits), so the
    // survivors' remaining requests need `after / RATE` seconds; the victim's reservations,
    // all within the 1 s horizon, may waste up to one more second, no longer.
    const end = Math.max(...reports.map((r) => r?.finishedAt ?? Number.NaN));
    const after = survivors.flatMap((w) => w.answers).filter((a) => a.t > killedAt).length;
    const tookMs = end - killedAt;
    const idealMs = (after / RATE) * 1000;
    console.info(
      `e2e kill -9: ${after} survivor requests after the kill took ${Math.round(tookMs)} ms ` +
        `(${Math.round(idealMs)} ms at full rate): ${Math.round(tookMs - idealMs)} ms lost`,
    );
    expect(after).toBeGreaterThan(40);
    expect(tookMs).toBeLessThanOrEqual(idealMs + 1000 + 200);
    // From a second after the kill on, the survivors get every permit: full rate.
    const late = survivors
      .flatMap((w) => w.answers)
      .filter((a) => a.t > killedAt + 1000)
      .map((a) => a.t)
      .sort((a, b) => a - b);
    const span = (late.at(-1) as number) - (killedAt + 1000);
    expect(late.length).toBeGreaterThanOrEqual((RATE * span) / 1000 - 2);
  });

  it("Redis stopped mid-run: each worker warns once and falls back to rate / 4, the run completes, every record is accounted for", async () => {
    const events = 400; // x 4 workers in chunks of 10: 160 requests
    const run = await startRun({
      eventsPerWorker: events,
      // At most 8 requests in flight per worker, so that none holds permits for all of its
      // requests when Redis stops (by default the first round may take the whole burst).
      concurrency: 8,
      commandTimeoutMs: 500,
      reconnectIntervalMs: 500,
    });
    try {
      // Early in the run: each worker keeps at least 25 requests to go, more than its 8 in
      // flight plus what Redis reserved ahead for it (at most a second of the shared 25/s), so
      // each must ask Redis again.
      // (Every worker has begun: one that logged in late must not have done nothing yet.)
      await until(
        () =>
          run.started.every((w) => w.answers.length >= 2) &&
          run.started.reduce((n, w) => n + w.answers.length, 0) >= 20,
        5000,
      );
      const atHalt = run.started.map((w) => w.answers.length);
      await redis.halt();
      const haltedAt = wallClock();
      const reports = await Promise.all(run.started.map((w) => w.done));
      const end = Math.max(...reports.map((r) => r?.finishedAt ?? Number.NaN));

      let created = 0;
      let ownLogins = 0;
      for (const [i, report] of reports.entries()) {
        const config = run.configs[i] as LoadWorkerConfig;
        const t = report?.totals;
        // Every record has exactly one outcome, and the created ones are in the store.
        expect(t && t.created + t.updated + t.failed + t.notAttempted).toBe(events);
        expect(report?.failures).toEqual([]);
        expect(missingFromStore(run.mock, config)).toEqual([]);
        expect(report?.limiter).toMatchObject({ backend: "local", fallbacks: 1 });
        created += t?.created ?? 0;
        // The documented fallback: one warning, naming the local bucket's rate. A worker that
        // still needed its first token when Redis stopped also gets the token cache's one
        // warning and logs in on its own (documented too); no other warning from this package.
        const ours = (run.started[i] as LoadWorker).logs
          .filter((l) => l.level === "warn" && l.message.includes("@vbapi-sdk/redis"))
          .map((l) => l.message);
        const limiterWarnings = ours.filter((m) => m.includes("rate limiting falls back"));
        const cacheWarnings = ours.filter((m) => m.includes("during token cache"));
        expect(limiterWarnings).toEqual([
          expect.stringMatching(
            new RegExp(
              `Redis is unreachable \\(.+\\); rate limiting falls back to a local bucket of 6\\.25 requests/s \\(burst ${Math.floor(BURST / 4)}\\)`,
            ),
          ),
        ]);
        expect(cacheWarnings.length).toBeLessThanOrEqual(1);
        expect(ours).toHaveLength(limiterWarnings.length + cacheWarnings.length);
        ownLogins += cacheWarnings.length;
        for (const line of (run.started[i] as LoadWorker).logs) {
          expect(line.message).not.toContain(run.apiKey);
          expect(line.message).not.toContain(config.password);
        }
      }
      expect(created).toBe(WORKERS * events);
      expect(run.mock.stats.logins.succeeded).toBeLessThanOrEqual(1 + ownLogins);
      expect(run.mock.store.count(DATABASE, "Event")).toBe(WORKERS * events);
      const rateLimited = run.mock.stats.byApiKey[apiKeyId(run.apiKey)]?.rateLimited ?? 0;
      const seen429 = reports.reduce((n, r) => n + (r?.rateLimited ?? 0), 0);
      console.info(
        `e2e Redis stopped: ${rateLimited} HTTP 429 (workers saw ${seen429}); ` +
          `requests per worker at the halt ${atHalt.join("/")} (halted ${Math.round(haltedAt - run.goAt)} ms in); ` +
          `finished ${Math.round(end - haltedAt)} ms after the halt; ` +
          `${run.mock.stats.logins.succeeded} login(s), ${ownLogins} without the cache`,
      );
      expect(seen429).toBe(rateLimited);
      // Measured: 0 (9 while the local buckets started full). A few are tolerated: permits
      // reserved through Redis that fell due while it did not answer are released together
      // when the outage is noticed (the server's bucket refilled meanwhile, so they normally fit
      // its five spare permits), and the four local buckets open at slightly different moments.
      expect(rateLimited).toBeLessThanOrEqual(3);
    } finally {
      await redis.restart();
    }
  });

  it("a token expiring mid-run is renewed through the shared cache: no failed record, about one login per lifetime for all four processes", async () => {
    const lifetimeMs = 3000;
    const renewBeforeMs = 1000;
    const events = 400; // x 4 workers in chunks of 10: 160 requests, at least 4.6 s
    const run = await startRun({
      eventsPerWorker: events,
      tokenLifetimeMs: lifetimeMs,
      renewBeforeMs,
    });
    const reports = await Promise.all(run.started.map((w) => w.done));
    const end = Math.max(...reports.map((r) => r?.finishedAt ?? Number.NaN));
    const wallMs = end - run.goAt;
    for (const [i, report] of reports.entries()) {
      expectAllCreated(run.mock, run.configs[i] as LoadWorkerConfig, report);
    }
    const stats = run.mock.stats;
    const expired = stats.byStatus["401"] ?? 0;
    console.info(
      `e2e token expiry: ${stats.logins.succeeded} logins in ${Math.round(wallMs)} ms ` +
        `(lifetime ${lifetimeMs} ms, renewed ${renewBeforeMs} ms ahead); ${expired} answers 401, ` +
        `${stats.byApiKey[apiKeyId(run.apiKey)]?.rateLimited} answers 429, ${reports.reduce((n, r) => n + (r?.retries ?? 0), 0)} retries`,
    );
    expiredAnswers = expired;
    expect(stats.logins.succeeded).toBeGreaterThanOrEqual(2);
    expect(stats.logins.succeeded).toBeLessThanOrEqual(
      Math.ceil(wallMs / (lifetimeMs - renewBeforeMs)) + 1,
    );
  });

  // The client asks a self-caching provider (passwordLogin) on every attempt, so its renewal
  // ahead of expiry is used: no request goes out with an expired token.
  it("a token renewed ahead of expiry never reaches the server expired (no 401)", () => {
    expect(expiredAnswers).toBeDefined();
    expect(expiredAnswers).toBe(0);
  });
});
