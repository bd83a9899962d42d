// Multi-process benchmark of the shared Redis limiter (no HTTP): N worker processes each take M
// permits for one API key, with `concurrency` parallel acquire loops each (like a bulk upload's
// concurrency), all started together. Reports the time from the start to the last permit against
// the bucket's minimum, (N*M - burst) / rate, and checks that no window exceeded burst + rate*t.
//
//   pnpm --filter @vbapi-sdk/redis bench:multiprocess [--workers 4] [--requests 200] [--rate 25]
//     [--burst 45] [--concurrency 8] [--url redis://...] [--json]
//
// Without --url it starts a throwaway redis-server (see lib/redis-harness).

import { randomUUID } from "node:crypto";
import { parseArgs } from "node:util";
import { startRedisServer } from "@vbapi-sdk/tool-redis-harness";
import { maxExcess, startWorker, wallClock } from "./pool.ts";

const { values } = parseArgs({
  options: {
    workers: { type: "string", default: "4" },
    requests: { type: "string", default: "200" },
    rate: { type: "string", default: "25" },
    burst: { type: "string", default: "45" },
    concurrency: { type: "string", default: "8" },
    url: { type: "string" },
    json: { type: "boolean", default: false },
  },
});

function int(name: keyof typeof values, min: number): number {
  const n = Number(values[name]);
  if (!Number.isFinite(n) || n < min) {
    throw new Error(`--${name} must be a number >= ${min} (got ${String(values[name])})`);
  }
  return n;
}

const workers = int("workers", 1);
const requests = int("requests", 1);
const rate = int("rate", 0.001);
const burst = int("burst", 1);
const concurrency = int("concurrency", 1);

const server = values.url ? undefined : await startRedisServer();
const url = values.url ?? (server?.url as string);
try {
  const apiKey = `bench-${randomUUID()}`;
  const pool = Array.from({ length: workers }, () =>
    startWorker({ url, apiKey, requestsPerSecond: rate, burst, requests, concurrency }),
  );
  await Promise.all(pool.map((w) => w.ready));
  const start = wallClock();
  for (const w of pool) w.go();
  const reports = await Promise.all(pool.map((w) => w.done));
  if (reports.some((r) => r?.grants !== requests)) {
    throw new Error(`a worker died or fell short: ${JSON.stringify(reports)}`);
  }
  const all = pool.flatMap((w) => w.grants);
  const total = workers * requests;
  const elapsedMs = Math.max(...all) - start;
  const minimumMs = (Math.max(0, total - burst) / rate) * 1000;
  const result = {
    workers,
    requestsPerWorker: requests,
    concurrency,
    requestsPerSecond: rate,
    burst,
    permits: all.length,
    elapsedMs: Math.round(elapsedMs),
    minimumMs: Math.round(minimumMs),
    ratio: Number((elapsedMs / minimumMs).toFixed(4)),
    // > 0 would mean some window got more than burst + rate*t permits.
    maxExcessOverBucket: Number(maxExcess(all, rate, burst).toFixed(3)),
    perWorkerFinishMs: pool.map((w) => Math.round(Math.max(...w.grants) - start)),
  };
  if (values.json) console.log(JSON.stringify(result));
  else {
    console.log(
      `${workers} workers x ${requests} permits at ${rate}/s burst ${burst} (concurrency ${concurrency} each)`,
    );
    console.log(
      `  total ${(elapsedMs / 1000).toFixed(3)} s, minimum ${(minimumMs / 1000).toFixed(3)} s, ` +
        `ratio ${result.ratio}x; max excess over burst + rate*t: ${result.maxExcessOverBucket}`,
    );
    console.log(
      `  per-worker finish (s): ${result.perWorkerFinishMs.map((ms) => (ms / 1000).toFixed(2)).join(", ")}`,
    );
  }
} finally {
  await server?.stop();
}
