// End-to-end benchmark of issue 14 at full size: N worker processes (bench/load-worker.ts, the
// README's example) share one API key through Redis (limiter and login token) and each load their
// own events with upsertAllEvents into the reference server (25 requests/s, burst 50, per key).
// Reports the time to the last worker's end against the minimum of the shared bucket
// ((requests - burst) / rate) and of the server's ((requests - 50) / 25), the 429s and the logins.
//
//   pnpm --filter @vbapi-sdk/redis bench:e2e [--workers 4] [--events 5000] [--chunk 10] [--json]
//
// Starts a throwaway redis-server (lib/redis-harness) and the reference server on loopback.

import { randomUUID } from "node:crypto";
import { parseArgs } from "node:util";
import { apiKeyId, startMockServer } from "@vbapi-sdk/mock-server";
import { startRedisServer } from "@vbapi-sdk/tool-redis-harness";
import { startLoadWorker, wallClock } from "./pool.ts";

const { values } = parseArgs({
  options: {
    workers: { type: "string", default: "4" },
    events: { type: "string", default: "5000" },
    chunk: { type: "string", default: "10" },
    json: { type: "boolean", default: false },
  },
});

function int(name: "workers" | "events" | "chunk"): number {
  const n = Number(values[name]);
  if (!Number.isInteger(n) || n < 1) {
    throw new Error(`--${name} must be an integer >= 1 (got ${String(values[name])})`);
  }
  return n;
}

const workers = int("workers");
const events = int("events");
const chunk = int("chunk");
const RATE = 25;
const BURST = 45;
const SERVER = { requestsPerSecond: 25, burst: 50 };

const redis = await startRedisServer();
const apiKey = `bench-${randomUUID()}`;
const user = {
  username: "bench",
  password: randomUUID(),
  clientId: "bench",
  clientCode: "BENCH",
  database: "bench",
};
const server = await startMockServer({ apiKeys: [apiKey], rateLimit: SERVER, users: [user] });
try {
  const pool = Array.from({ length: workers }, (_, i) =>
    startLoadWorker({
      baseUrl: server.url,
      redisUrl: redis.url,
      apiKey,
      ...user,
      firstEventId: 1 + i * 1_000_000,
      events,
      chunkSize: chunk,
      requestsPerSecond: RATE,
      burst: BURST,
      expectedProcesses: workers,
    }),
  );
  await Promise.all(pool.map((w) => w.ready));
  const start = wallClock();
  for (const w of pool) w.go();
  const reports = await Promise.all(pool.map((w) => w.done));
  if (reports.some((r) => !r)) throw new Error("a worker died");
  const elapsedMs = Math.max(...reports.map((r) => r?.finishedAt ?? 0)) - start;
  const requests = reports.reduce((n, r) => n + (r?.requests ?? 0), 0);
  const minimum = (burst: number) => (Math.max(0, requests - burst) / RATE) * 1000;
  const stats = server.stats;
  const result = {
    workers,
    eventsPerWorker: events,
    chunkSize: chunk,
    requests,
    elapsedMs: Math.round(elapsedMs),
    minimumMs: Math.round(minimum(BURST)),
    ratio: Number((elapsedMs / minimum(BURST)).toFixed(4)),
    serverMinimumMs: Math.round(minimum(SERVER.burst)),
    ratioToServerMinimum: Number((elapsedMs / minimum(SERVER.burst)).toFixed(4)),
    http429: stats.byApiKey[apiKeyId(apiKey)]?.rateLimited ?? 0,
    logins: stats.logins.succeeded,
    stored: server.store.count(user.database, "Event"),
    failed: reports.reduce(
      (n, r) => n + (r?.totals.failed ?? 0) + (r?.totals.notAttempted ?? 0),
      0,
    ),
    perWorkerFinishMs: reports.map((r) => Math.round((r?.finishedAt ?? 0) - start)),
  };
  if (values.json) console.log(JSON.stringify(result));
  else {
    console.log(
      `${workers} workers x ${events} events in chunks of ${chunk} (${requests} requests), one API key`,
    );
    console.log(
      `  total ${(elapsedMs / 1000).toFixed(3)} s; minimum ${(minimum(BURST) / 1000).toFixed(3)} s ` +
        `(shared bucket, burst ${BURST}): ratio ${result.ratio}; server's minimum ` +
        `${(minimum(SERVER.burst) / 1000).toFixed(3)} s: ratio ${result.ratioToServerMinimum}`,
    );
    console.log(
      `  429s ${result.http429}, logins ${result.logins}, stored ${result.stored} of ${workers * events}, ` +
        `failed ${result.failed}; workers finished at ${result.perWorkerFinishMs.map((ms) => (ms / 1000).toFixed(1)).join(" / ")} s`,
    );
  }
} finally {
  await server.close();
  await redis.stop();
}
