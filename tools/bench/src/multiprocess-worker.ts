// One worker of the multi-process benchmark (issue 14): its own client, sharing the API key's
// rate budget through @vbapi-sdk/redis and (in login mode) one ID token through the Redis token
// cache. argv[2]: JSON WorkerConfig. Messages out: {type:"ready"}, {type:"done", ...};
// in: {type:"go"} (every worker starts together).
import {
  createVbapiClient,
  passwordLogin,
  type TokenProvider,
  upsertAllEvents,
} from "@vbapi-sdk/client";
import { createRedisRateLimiter, createRedisTokenCache } from "@vbapi-sdk/redis";
import { events } from "@vbapi-sdk/tool-demo/sample-data.ts";

export interface WorkerConfig {
  baseUrl: string;
  redisUrl: string;
  apiKey: string;
  database: string;
  /** First event_ID of this worker's records (workers never share a key). */
  firstId: number;
  count: number;
  chunkSize: number;
  requestsPerSecond: number;
  burst: number;
  /** Login mode: log in through passwordLogin with the shared token cache. Else a static token. */
  login?: { username: string; password: string; clientId: string; clientCode: string };
  token?: string;
}

export type WorkerDone = {
  type: "done";
  startedAt: number;
  finishedAt: number;
  upserted: number;
  requests: number;
  rateLimited: number;
};

const wallClock = () => performance.timeOrigin + performance.now();
const config = JSON.parse(process.argv[2] ?? "{}") as WorkerConfig;
const limiter = createRedisRateLimiter({
  url: config.redisUrl,
  apiKey: config.apiKey,
  requestsPerSecond: config.requestsPerSecond,
  burst: config.burst,
  fallback: false, // a lost Redis must fail the benchmark, not quietly measure something else
});
const cache = config.login ? createRedisTokenCache({ url: config.redisUrl }) : undefined;
const token: TokenProvider = config.login
  ? passwordLogin({
      ...config.login,
      database: config.database,
      apiKey: config.apiKey,
      baseUrl: config.baseUrl,
      cache,
    })
  : (config.token as string);
const client = createVbapiClient({
  baseUrl: config.baseUrl,
  apiKey: config.apiKey,
  database: config.database,
  limiter,
  token,
  logLevel: "error",
});
const records = [...events(config.count, config.firstId, config.firstId)];

await new Promise<void>((resolve) => {
  process.on("message", (m: { type?: string }) => {
    if (m?.type === "go") resolve();
  });
  process.send?.({ type: "ready" });
});
const startedAt = wallClock();
const report = await upsertAllEvents(client, records, { chunkSize: config.chunkSize });
const finishedAt = wallClock();
process.send?.({
  type: "done",
  startedAt,
  finishedAt,
  upserted: report.totals.created + report.totals.updated,
  requests: report.requests,
  rateLimited: report.rateLimited,
} satisfies WorkerDone);
await limiter.close();
await cache?.close();
process.disconnect?.();
