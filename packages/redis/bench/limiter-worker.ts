// One worker process of the multi-process benchmark and tests: acquires permits from the shared
// Redis limiter with `concurrency` loops until `requests` permits are taken or `durationMs` passes,
// and reports each grant's wall-clock time to its parent over IPC.
//
// argv[2]: JSON WorkerConfig. Messages out: {type:"ready"}, {type:"grant", t}, {type:"done", ...}.
// Message in: {type:"go"} starts the run (so that every worker starts together).

import { Redis } from "ioredis";
import { createRedisRateLimiter } from "../src/index.ts";

export interface WorkerConfig {
  url: string;
  apiKey: string;
  requestsPerSecond: number;
  burst: number;
  /** Permits to take (default: unbounded, until durationMs). */
  requests?: number;
  /** Stop after this long (default: unbounded, until `requests`). */
  durationMs?: number;
  /** Parallel acquire loops (a client's bulk concurrency). */
  concurrency: number;
  keyPrefix?: string;
  maxReservationMs?: number;
}

export type WorkerMessage =
  | { type: "ready" }
  | { type: "grant"; t: number }
  | { type: "done"; grants: number; stats: unknown };

const wallClock = () => performance.timeOrigin + performance.now();

async function main(): Promise<void> {
  const config = JSON.parse(process.argv[2] ?? "{}") as WorkerConfig;
  const send = (m: WorkerMessage) => process.send?.(m);
  const redis = new Redis(config.url, { maxRetriesPerRequest: 1 });
  await redis.ping();
  const limiter = createRedisRateLimiter({
    redis,
    apiKey: config.apiKey,
    requestsPerSecond: config.requestsPerSecond,
    burst: config.burst,
    ...(config.keyPrefix !== undefined && { keyPrefix: config.keyPrefix }),
    ...(config.maxReservationMs !== undefined && { maxReservationMs: config.maxReservationMs }),
  });
  await new Promise<void>((resolve) => {
    process.on("message", (m: { type?: string }) => {
      if (m?.type === "go") resolve();
    });
    send({ type: "ready" });
  });
  const requests = config.requests ?? Number.POSITIVE_INFINITY;
  const end =
    config.durationMs === undefined ? Number.POSITIVE_INFINITY : wallClock() + config.durationMs;
  let started = 0;
  let grants = 0;
  const loop = async () => {
    while (started < requests && wallClock() < end) {
      started++;
      await limiter.acquire();
      grants++;
      send({ type: "grant", t: wallClock() });
    }
  };
  await Promise.all(Array.from({ length: config.concurrency }, loop));
  send({ type: "done", grants, stats: limiter.stats() });
  await limiter.close();
  await redis.quit();
  process.disconnect?.();
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
