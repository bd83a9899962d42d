// 6. Multi-process (issue 14), a section of its own: four worker processes share one API key
// through @vbapi-sdk/redis (createRedisRateLimiter for the rate budget; in login mode also
// createRedisTokenCache behind passwordLogin, so all share one ID token) and each load 5,000
// events (chunks of 100) against the reference server in its own process (25/s, burst 50 per
// key, 150 ms ±10% latency). Prints total time / the token bucket's minimum, the server's 429s,
// and its login count. Without redis-server it prints SKIPPED with the reason, never a figure.
import { type ChildProcess, fork } from "node:child_process";
import { findRedisServer, type RedisServer, startRedisServer } from "@vbapi-sdk/tool-redis-harness";
import type { WorkerConfig, WorkerDone } from "./multiprocess-worker.ts";
import { type BenchResult, type Row, verdict } from "./report.ts";
import { API_KEY, BENCH_DIR, DATABASE, type ServerHandle, startServer, TOKEN } from "./server.ts";
import { fmt, round, tokenBucketMinimumMs } from "./stats.ts";

const WORKERS = 4;
const RATE = 25;
const BURST = 50;
const CHUNK = 100;
const LATENCY_MS = 150;
const USER = {
  username: "bench",
  password: "bench-password",
  clientId: "bench-client",
  clientCode: "BENCH",
};

const wallClock = () => performance.timeOrigin + performance.now();

interface Worker {
  child: ChildProcess;
  ready: Promise<void>;
  done: Promise<WorkerDone>;
}

function startWorker(config: WorkerConfig): Worker {
  const child = fork(
    new URL("./multiprocess-worker.ts", import.meta.url),
    [JSON.stringify(config)],
    {
      cwd: BENCH_DIR,
      execArgv: ["--import", "tsx"],
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    },
  );
  let onReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => {
    onReady = resolve;
  });
  let result: WorkerDone | undefined;
  child.on("message", (m: WorkerDone | { type: "ready" }) => {
    if (m.type === "ready") onReady();
    else if (m.type === "done") result = m;
  });
  const done = new Promise<WorkerDone>((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", (code) =>
      result
        ? resolve(result)
        : reject(new Error(`multiprocess worker exited with code ${code} before finishing`)),
    );
  });
  return { child, ready, done };
}

function skipped(reason: string): BenchResult {
  return {
    name: "multiprocess",
    figures: { skipped: reason },
    rows: [
      {
        section: "multi-process (Redis)",
        figure: "4 workers, one API key",
        value: reason,
        verdict: "SKIPPED",
      },
    ],
    notes: [`multiprocess: SKIPPED: ${reason}`],
  };
}

/** Starts the server in login mode when it supports `users`; otherwise in static-token mode. */
async function startBenchServer(): Promise<{ server: ServerHandle; login: boolean }> {
  const base = {
    rateLimit: { requestsPerSecond: RATE, burst: BURST },
    latency: { fixedMs: LATENCY_MS * 0.9, jitterMs: LATENCY_MS * 0.2 },
  };
  const withUsers = await startServer({ ...base, users: [USER] } as never);
  const { stats } = await withUsers.snapshot();
  if ((stats as { logins?: unknown }).logins !== undefined)
    return { server: withUsers, login: true };
  await withUsers.close();
  return { server: await startServer(base), login: false };
}

export async function multiprocess({ quick }: { quick: boolean }): Promise<BenchResult> {
  try {
    findRedisServer();
  } catch (error) {
    return skipped(
      `redis-server not found (${error instanceof Error ? error.message.split(":")[0] : "unknown"}); install it with apt-get install -y redis-server`,
    );
  }
  const perWorker = quick ? 500 : 5_000;
  let redis: RedisServer | undefined;
  let server: ServerHandle | undefined;
  const pool: Worker[] = [];
  try {
    redis = await startRedisServer();
    const started = await startBenchServer();
    server = started.server;
    const login = started.login;
    await server.reset();
    for (let w = 0; w < WORKERS; w++) {
      pool.push(
        startWorker({
          baseUrl: server.url,
          redisUrl: redis.url,
          apiKey: API_KEY,
          database: DATABASE,
          firstId: 1 + w * 1_000_000,
          count: perWorker,
          chunkSize: CHUNK,
          requestsPerSecond: RATE,
          burst: 40, // @vbapi-sdk/redis's default: VBA's 50 less ten kept in hand
          ...(login ? { login: USER } : { token: TOKEN }),
        }),
      );
    }
    await Promise.all(pool.map((w) => w.ready));
    const go = wallClock();
    for (const w of pool) w.child.send({ type: "go" });
    const results = await Promise.all(pool.map((w) => w.done));
    const totalMs = Math.max(...results.map((r) => r.finishedAt)) - go;
    const { stats } = await server.snapshot();
    const logins = (stats as { logins?: { succeeded: number } }).logins?.succeeded;
    const upserted = results.reduce((n, r) => n + r.upserted, 0);
    if (upserted !== WORKERS * perWorker)
      throw new Error(`multiprocess: ${WORKERS * perWorker - upserted} records not upserted`);
    const requests = WORKERS * Math.ceil(perWorker / CHUNK);
    // The first batch needs the ID token: in login mode one login round trip comes first.
    const minimumMs =
      tokenBucketMinimumMs(requests, RATE, BURST, LATENCY_MS * 0.9) +
      (login ? LATENCY_MS * 0.9 : 0);
    const ratio = totalMs / minimumMs;
    const section = `multi-process: ${WORKERS} workers x ${fmt.int(perWorker)} events, one key, Redis, ${LATENCY_MS} ms`;
    const rows: Row[] = [
      {
        section,
        figure: `total time / minimum (${fmt.s(minimumMs)}${login ? ", incl. one login" : ""})`,
        value: `${fmt.s(totalMs)} = ${fmt.ratio(ratio)} (${stats.requests} API requests${login ? " incl. logins" : ""})`,
        target: "<= 1.05x",
        verdict: verdict(ratio <= 1.05),
      },
      {
        section,
        figure: "HTTP 429 (server)",
        value: String(stats.rateLimited),
        target: "0",
        verdict: verdict(stats.rateLimited === 0),
      },
      login
        ? {
            section,
            figure: "logins (server)",
            value: String(logins),
            target: "exactly 1",
            verdict: verdict(logins === 1),
          }
        : {
            section,
            figure: "logins (server)",
            value:
              "the reference server here has no `users` option (login mode comes with branch mock); static token used",
            verdict: "SKIPPED",
          },
      {
        section,
        figure: "per-worker finish",
        value: results.map((r) => fmt.s(r.finishedAt - go)).join(", "),
      },
    ];
    const notes: string[] = [];
    if (ratio > 1.05 || stats.rateLimited > 0)
      notes.push(
        `multiprocess: ${fmt.ratio(ratio)} the minimum with ${stats.rateLimited} x 429 for ${requests} requests ` +
          (requests > 45
            ? `(the shared bucket spends 40 of the 50-request burst: ${fmt.s((10 / RATE) * 1000)} of that is by design).`
            : "(all requests fit in the burst: the floor is one round trip, reachable only with every request in flight at once)."),
      );
    return {
      name: "multiprocess",
      figures: {
        workers: WORKERS,
        eventsPerWorker: perWorker,
        chunkSize: CHUNK,
        latencyMs: LATENCY_MS,
        loginMode: login,
        totalMs: round(totalMs, 1),
        minimumMs: round(minimumMs, 1),
        ratio: round(ratio),
        requests: stats.requests,
        http429: stats.rateLimited,
        logins: logins ?? null,
        workerResults: results.map((r) => ({ ...r, finishMs: round(r.finishedAt - go, 1) })),
      },
      rows,
      notes,
    };
  } finally {
    for (const w of pool) if (w.child.exitCode === null && w.child.pid) w.child.kill();
    await server?.close();
    await redis?.stop();
  }
}
