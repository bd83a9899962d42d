// Redis stopped or hung mid-run: the documented fallback (one warning, a local bucket at
// requestsPerSecond / expectedProcesses), every acquire still resolves, and the limiter returns to
// the shared bucket when Redis is back. The redis-server is really stopped, by its PID.

import { randomUUID } from "node:crypto";
import { type RedisServer, startRedisServer } from "@vbapi-sdk/tool-redis-harness";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRedisRateLimiter, RedisUnavailableError } from "../src/index.ts";
import { maxExcess, sleep } from "./helpers.ts";

let server: RedisServer;
let admin: Redis;

beforeAll(async () => {
  server = await startRedisServer();
  admin = new Redis(server.url, { maxRetriesPerRequest: null });
  admin.on("error", () => {});
});
afterAll(async () => {
  admin?.disconnect();
  await server?.stop();
});

function recordingLogger() {
  const lines: { level: "warn" | "info"; message: string }[] = [];
  return {
    lines,
    warn: (message: string) => lines.push({ level: "warn", message }),
    info: (message: string) => lines.push({ level: "info", message }),
  };
}

async function until(condition: () => boolean, ms: number): Promise<void> {
  const deadline = performance.now() + ms;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`condition not met within ${ms} ms`);
    await sleep(10);
  }
}

/**
 * A limiter that is the only sharer of its key (expectedProcesses 1), on a new key unless given,
 * whose calls to Redis count as an outage past 300 ms; the options that matter are the test's.
 */
function soleSharer(
  options: Omit<Parameters<typeof createRedisRateLimiter>[0], "url" | "apiKey"> & {
    apiKey?: string;
  },
) {
  return createRedisRateLimiter({
    url: server.url,
    apiKey: randomUUID(),
    commandTimeoutMs: 300,
    fallback: { expectedProcesses: 1 },
    logger: recordingLogger(),
    ...options,
  });
}

describe("Redis unreachable mid-run", () => {
  it("stopped: one warning, a local bucket at rate / expectedProcesses, every acquire resolves, back to Redis when it returns", async () => {
    const apiKey = `secret-${randomUUID()}`;
    const logger = recordingLogger();
    const limiter = createRedisRateLimiter({
      url: server.url,
      apiKey,
      requestsPerSecond: 40,
      burst: 4,
      maxReservationMs: 100,
      commandTimeoutMs: 300,
      reconnectIntervalMs: 100,
      fallback: { expectedProcesses: 2 },
      logger,
    });
    try {
      const grants: { t: number; backend: string }[] = [];
      const total = 90;
      let started = 0;
      const run = Promise.all(
        Array.from({ length: 6 }, async () => {
          while (started < total) {
            started++;
            await limiter.acquire();
            grants.push({ t: performance.now(), backend: limiter.stats().backend });
          }
        }),
      );
      await until(() => grants.length >= 15, 3000);
      await server.halt();
      const haltedAt = performance.now();
      await until(() => limiter.stats().backend === "local", 2000);
      await until(() => grants.length >= 45, 5000);
      await server.restart();
      const restartedAt = performance.now();
      await until(() => limiter.stats().backend === "redis", 3000);
      await run;

      expect(grants).toHaveLength(total);
      expect(limiter.stats()).toMatchObject({ acquired: total, waiting: 0, fallbacks: 1 });
      const warnings = logger.lines.filter((l) => l.level === "warn");
      expect(warnings).toHaveLength(1);
      expect(warnings[0]?.message).toMatch(
        /falls back to a local bucket of 20 requests\/s \(burst 2\)/,
      );
      expect(logger.lines.some((l) => l.level === "info" && /answers again/.test(l.message))).toBe(
        true,
      );
      for (const line of logger.lines) expect(line.message).not.toContain(apiKey);

      // While Redis was down, this process stayed within its share: 20/s, burst 2 (plus the
      // permits it had reserved within the 100 ms horizon before Redis stopped).
      const outage = grants
        .filter((g) => g.t > haltedAt + 150 && g.t < restartedAt)
        .map((g) => g.t);
      expect(outage.length).toBeGreaterThan(10);
      expect(maxExcess(outage, 20, 2)).toBeLessThanOrEqual(1);
      // Back on the shared bucket: the restarted (empty) Redis holds it again.
      expect(grants.at(-1)?.backend).toBe("redis");
      expect(await admin.keys("vbapi:*")).toHaveLength(1);
    } finally {
      await limiter.close();
    }
  });

  it("the switch adds no burst: the local bucket starts empty once the reservations made through Redis are spent", async () => {
    // One process that is the only sharer (expectedProcesses 1): before, during and after the
    // switch its permits together must stay within ONE bucket of 40/s, burst 8. A local bucket
    // that started full would add its burst on top of the reservations still falling due.
    const limiter = soleSharer({
      requestsPerSecond: 40,
      burst: 8,
      maxReservationMs: 300,
      reconnectIntervalMs: 5000,
    });
    try {
      const grants: number[] = [];
      let started = 0;
      const run = Promise.all(
        Array.from({ length: 20 }, async () => {
          while (started < 80) {
            started++;
            await limiter.acquire();
            grants.push(performance.now());
          }
        }),
      );
      await until(() => grants.length >= 20, 3000);
      await server.halt();
      await run;
      expect(limiter.stats()).toMatchObject({ backend: "local", fallbacks: 1 });
      expect(grants).toHaveLength(80);
      // (Reservations that fell due while Redis did not answer are released together when the
      // outage is noticed, ~100 ms of permits at once: within the burst, as the bucket refilled
      // meanwhile.) A local bucket starting full would add 8 more: an excess of about 8. Each
      // grant is stamped when its waiter resumes, not when the permit was given: on a machine
      // the whole suite keeps busy, a late waiter before on-time ones shows as a fraction of a
      // permit too many (1.03 seen once), so 1.5, as the other bucket tests allow.
      expect(maxExcess(grants, 40, 8)).toBeLessThanOrEqual(1.5);
    } finally {
      await limiter.close();
      await server.restart();
    }
  });

  it("hung (SIGSTOP): a call that takes longer than commandTimeoutMs counts as an outage", async () => {
    const logger = recordingLogger();
    const limiter = createRedisRateLimiter({
      url: server.url,
      apiKey: randomUUID(),
      commandTimeoutMs: 200,
      reconnectIntervalMs: 100,
      // The local bucket opens maxReservationMs after the last call to Redis (here: the one that
      // hung), then gives its first permit one interval (1 / 6.25 s) later.
      maxReservationMs: 200,
      logger,
    });
    try {
      await limiter.acquire();
      // On a loaded machine the first call itself can outlast 200 ms (an outage of its own, with
      // its warning): the hang is measured from a limiter back on Redis, its warnings alone.
      await until(() => limiter.stats().backend === "redis", 3000);
      const before = logger.lines.length;
      process.kill(server.pid, "SIGSTOP");
      const start = performance.now();
      try {
        await limiter.acquire();
        expect(performance.now() - start).toBeLessThan(600);
        expect(limiter.stats().backend).toBe("local");
        const warnings = logger.lines.slice(before).filter((l) => l.level === "warn");
        expect(warnings).toHaveLength(1);
        expect(warnings[0]?.message).toMatch(/did not answer within 200 ms/);
      } finally {
        process.kill(server.pid, "SIGCONT");
      }
      await until(() => limiter.stats().backend === "redis", 3000);
      await limiter.acquire();
    } finally {
      await limiter.close();
    }
  });

  it("back from an outage to a bucket someone refilled meanwhile: it restarts empty, no burst on top of the local permits", async () => {
    // One sharer (expectedProcesses 1): before, during and after the outage, its permits
    // together stay within ONE bucket of 40/s, burst 8. When Redis comes back, the bucket may be
    // full although every sharer went on at its local share: a hung Redis runs the commands the
    // sharers gave up on once it resumes, recreating the bucket full (seen: 11 answers 429 for
    // three processes after a 6 s SIGSTOP). Here another client fills it before the return.
    const apiKey = randomUUID();
    const limiter = soleSharer({
      apiKey,
      requestsPerSecond: 40,
      burst: 8,
      maxReservationMs: 100,
      reconnectIntervalMs: 600,
    });
    const grants: number[] = [];
    let stopping = false;
    const run = Promise.all(
      Array.from({ length: 10 }, async () => {
        while (!stopping) {
          await limiter.acquire();
          grants.push(performance.now());
        }
      }),
    );
    try {
      await until(() => grants.length >= 20, 3000);
      const [key] = await admin.keys("vbapi:*");
      await server.halt();
      await until(() => limiter.stats().backend === "local", 3000);
      await server.restart();
      const [seconds, micros] = (await admin.time()).map(Number) as [number, number];
      await admin.hset(key as string, {
        tokens: 8,
        ts: seconds * 1e6 + micros,
        pausedUntil: 0,
        seq: 0,
      });
      await until(() => limiter.stats().backend === "redis", 5000);
      const back = grants.length;
      await until(() => grants.length >= back + 20, 3000);
    } finally {
      stopping = true;
      await run;
      await limiter.close();
    }
    expect(maxExcess(grants, 40, 8)).toBeLessThanOrEqual(1.5);
  });

  it("a slow rate back from an outage that lost the bucket: its permits stay paced (no burst)", async () => {
    // 2/s: one permit every 500 ms, past the 100 ms a reservation may reach. The cold start's
    // first call grants nothing then; the empty bucket must still be written, or the next call
    // finds none and creates it full (burst 10).
    const limiter = soleSharer({
      requestsPerSecond: 2,
      burst: 10,
      maxReservationMs: 100,
      reconnectIntervalMs: 200,
    });
    try {
      await limiter.acquire();
      await server.halt();
      await limiter.acquire(); // fails over to the local bucket
      expect(limiter.stats().backend).toBe("local");
      await server.restart();
      await until(() => limiter.stats().backend === "redis", 5000);
      const started = performance.now();
      for (let i = 0; i < 4; i++) await limiter.acquire();
      // Paced: three intervals of 500 ms at least (a full bucket would give all four at once).
      expect(performance.now() - started).toBeGreaterThan(1_200);
    } finally {
      await limiter.close();
    }
  });

  it("with fallback: false, acquire rejects with RedisUnavailableError while Redis is down, and works again after", async () => {
    const limiter = createRedisRateLimiter({
      url: server.url,
      apiKey: randomUUID(),
      fallback: false,
      commandTimeoutMs: 300,
      logger: recordingLogger(),
    });
    try {
      await limiter.acquire();
      await server.halt();
      await expect(limiter.acquire()).rejects.toBeInstanceOf(RedisUnavailableError);
      await server.restart();
      // ioredis reconnects on its own (backing off up to 1 s).
      const deadline = performance.now() + 4000;
      for (;;) {
        try {
          await limiter.acquire();
          break;
        } catch (error) {
          expect(error).toBeInstanceOf(RedisUnavailableError);
          if (performance.now() > deadline) throw error;
          await sleep(100);
        }
      }
    } finally {
      await limiter.close();
    }
  });
});
