// Real child processes sharing one API key's bucket through a real redis-server: fairness, no
// starvation of a light process, and kill -9 of a worker mid-run.

import { randomUUID } from "node:crypto";
import { type RedisServer, startRedisServer } from "@vbapi-sdk/tool-redis-harness";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { WorkerConfig } from "../bench/limiter-worker.ts";
import { maxExcess, startWorker, type Worker, wallClock } from "./helpers.ts";

let server: RedisServer;
const workers: Worker[] = [];

beforeAll(async () => {
  server = await startRedisServer();
});
afterAll(async () => {
  for (const w of workers) if (w.child.exitCode === null) w.child.kill("SIGKILL");
  await server?.stop();
});

const RATE = 40;
const BURST = 5;

async function startAll(configs: Omit<WorkerConfig, "url" | "apiKey">[]): Promise<{
  started: Worker[];
  goAt: number;
}> {
  const apiKey = `key-${randomUUID()}`;
  const started = configs.map((c) => startWorker({ url: server.url, apiKey, ...c }));
  workers.push(...started);
  await Promise.all(started.map((w) => w.ready));
  const goAt = wallClock();
  for (const w of started) w.go();
  return { started, goAt };
}

describe("several processes share one bucket", () => {
  it("two equally busy processes get equal shares, and together stay within burst + rate*t at full speed", async () => {
    const config = { requestsPerSecond: RATE, burst: BURST, concurrency: 20, durationMs: 3000 };
    const { started } = await startAll([config, config]);
    const [a, b] = (await Promise.all(started.map((w) => w.done))) as { grants: number }[];
    const total = (a?.grants ?? 0) + (b?.grants ?? 0);
    const all = started.flatMap((w) => w.grants);
    expect(all).toHaveLength(total);
    expect(maxExcess(all, RATE, BURST)).toBeLessThanOrEqual(1.5);
    // Back to back: nearly all of burst + rate * 3 s was used (loops stop at 3 s).
    expect(total).toBeGreaterThanOrEqual(0.9 * (BURST + RATE * 3));
    for (const w of [a, b]) {
      expect((w?.grants ?? 0) / total).toBeGreaterThan(0.35);
      expect((w?.grants ?? 0) / total).toBeLessThan(0.65);
    }
  });

  it("a process with one waiter is not starved by a process with forty", async () => {
    const { started, goAt } = await startAll([
      { requestsPerSecond: RATE, burst: BURST, concurrency: 40, durationMs: 3000 },
      { requestsPerSecond: RATE, burst: BURST, concurrency: 1, durationMs: 3000 },
    ]);
    await Promise.all(started.map((w) => w.done));
    const light = started[1]?.grants ?? [];
    // Its one waiter waits at most the reservation horizon (1 s) plus a few permit intervals, and
    // the scheduling lag of a machine running the whole suite (1,699 ms seen once); starved, it
    // would get no second permit in the run's 3 s.
    const gaps = [light[0] ?? Number.POSITIVE_INFINITY, ...light]
      .map((t, i, all) => (i === 0 ? t - goAt : t - (all[i - 1] as number)))
      .slice(0, light.length);
    expect(light.length).toBeGreaterThanOrEqual(2);
    expect(Math.max(...gaps)).toBeLessThan(2200);
  });

  it("kill -9 of one worker mid-run: the other goes on at full rate within a second, nothing deadlocks", async () => {
    const { started } = await startAll([
      { requestsPerSecond: RATE, burst: BURST, concurrency: 30 },
      { requestsPerSecond: RATE, burst: BURST, concurrency: 30, durationMs: 4000 },
    ]);
    const [victim, survivor] = started as [Worker, Worker];
    await new Promise((resolve) => setTimeout(resolve, 1500));
    victim.child.kill("SIGKILL");
    const killedAt = wallClock();
    const report = await survivor.done;
    expect(report?.grants).toBe(survivor.grants.length);
    const end = survivor.grants.at(-1) as number;
    const after = survivor.grants.filter((t) => t > killedAt);
    // What the victim had reserved lies within the 1 s horizon: from a second after the kill
    // on, the survivor gets every permit.
    const late = after.filter((t) => t > killedAt + 1000);
    expect(late.length).toBeGreaterThanOrEqual((RATE * (end - killedAt - 1000)) / 1000 - 2);
    // In all, at most a second's worth of permits was lost with the killed worker.
    const lost = (RATE * (end - killedAt)) / 1000 - after.length;
    expect(lost).toBeLessThanOrEqual(RATE + 2);
    expect(victim.child.signalCode).toBe("SIGKILL");
  });
});
