// The shared bucket against a real redis-server: several connections in one test process stand in
// for several processes (the multi-process test forks real ones).

import { createHash, randomUUID } from "node:crypto";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { type RedisServer, startRedisServer } from "@vbapi-sdk/tool-redis-harness";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRedisRateLimiter, type RedisRateLimiter } from "../src/index.ts";
import { maxExcess, sleep } from "./helpers.ts";

let server: RedisServer;
let admin: Redis;
const open: RedisRateLimiter[] = [];

beforeAll(async () => {
  server = await startRedisServer();
  admin = new Redis(server.url);
});
afterAll(async () => {
  await Promise.all(open.map((l) => l.close()));
  await admin?.quit();
  await server?.stop();
});

const newKey = () => `key-${randomUUID()}`;
function limiter(options: Omit<Parameters<typeof createRedisRateLimiter>[0], "url" | "redis">) {
  const l = createRedisRateLimiter({ url: server.url, logger: { warn() {} }, ...options });
  open.push(l);
  return l;
}

describe("createRedisRateLimiter: one bucket per API key", () => {
  it("four connections hammering one key never exceed burst + rate*t, and spend the budget back to back", async () => {
    const apiKey = newKey();
    const rate = 50;
    const burst = 10;
    const limiters = Array.from({ length: 4 }, () =>
      limiter({ apiKey, requestsPerSecond: rate, burst }),
    );
    const times: number[] = [];
    const perLimiter = 25;
    // How late this process's event loop ran: grants that arrived while it was blocked are
    // stamped together when it runs again (up to rate × the delay of them).
    const lag = monitorEventLoopDelay({ resolution: 5 });
    lag.enable();
    const start = performance.now();
    await Promise.all(
      limiters.map(async (l) => {
        let left = perLimiter;
        await Promise.all(
          Array.from({ length: 8 }, async () => {
            while (left > 0) {
              left--;
              await l.acquire();
              times.push(performance.now());
            }
          }),
        );
      }),
    );
    const elapsed = performance.now() - start;
    lag.disable();
    const total = 4 * perLimiter;
    expect(times).toHaveLength(total);
    // Timer and event-loop jitter may bunch observed grants (timed here, after each grant reached
    // this process): tolerate two permits (40 ms at 50/s; 1.19 seen in CI with the whole suite
    // running two test files at a time), and the permits of the longest delay this event loop
    // was measured to have (4.8 seen once in CI, the whole suite beside it). Buckets that were
    // not shared would give 3 × burst (30) more. The server-side effect (no 429) is the
    // end-to-end test's.
    const lagPermits = (lag.max / 1e6 / 1000) * rate;
    expect(maxExcess(times, rate, burst)).toBeLessThanOrEqual(2 + lagPermits);
    // Past 2 × burst of lag (0.4 s blocked) the tolerance would hide the bug: say so instead.
    expect(lagPermits, "the event loop was blocked too long to judge").toBeLessThan(2 * burst);
    const minimum = ((total - burst) / rate) * 1000;
    expect(elapsed).toBeGreaterThan(minimum - 50);
    expect(elapsed).toBeLessThan(minimum * 1.1 + 150);
    expect(limiters.reduce((sum, l) => sum + l.stats().acquired, 0)).toBe(total);
    expect(limiters.every((l) => l.stats().waiting === 0)).toBe(true);
  });

  it("keys the bucket by the SHA-256 of the API key under the prefix; the key itself is stored nowhere", async () => {
    const apiKey = `secret-${randomUUID()}`;
    const l = limiter({ apiKey, keyPrefix: "t2:" });
    await l.acquire();
    const hash = createHash("sha256").update(apiKey).digest("hex");
    const keys = await admin.keys("t2:*");
    expect(keys).toEqual([`t2:{${hash}}:bucket`]);
    const all = await admin.keys("*");
    for (const k of all) {
      expect(k).not.toContain(apiKey);
      const fields = await admin.hgetall(k);
      expect(JSON.stringify(fields)).not.toContain(apiKey);
    }
    // Idle buckets expire (a missing hash is a full bucket).
    expect(await admin.pttl(keys[0] as string)).toBeGreaterThan(0);
  });

  it("separate API keys have separate buckets", async () => {
    const a = limiter({ apiKey: newKey(), requestsPerSecond: 1, burst: 2 });
    const b = limiter({ apiKey: newKey(), requestsPerSecond: 1, burst: 2 });
    const start = performance.now();
    await Promise.all([a.acquire(), a.acquire(), b.acquire(), b.acquire()]);
    expect(performance.now() - start).toBeLessThan(300);
  });

  it("uses a caller's connection and leaves it open on close; closes the one it opened", async () => {
    const mine = new Redis(server.url);
    try {
      const shared = createRedisRateLimiter({ redis: mine, apiKey: newKey() });
      await shared.acquire();
      await shared.close();
      expect(await mine.ping()).toBe("PONG");
      const before = Number((await admin.info("clients")).match(/connected_clients:(\d+)/)?.[1]);
      const own = createRedisRateLimiter({ url: server.url, apiKey: newKey() });
      await own.acquire();
      const during = Number((await admin.info("clients")).match(/connected_clients:(\d+)/)?.[1]);
      expect(during).toBe(before + 1);
      await own.close();
      await sleep(50);
      const after = Number((await admin.info("clients")).match(/connected_clients:(\d+)/)?.[1]);
      expect(after).toBe(before);
    } finally {
      await mine.quit();
    }
  });

  it("rejects bad options with the option's name, never echoing a URL or key", () => {
    expect(() => createRedisRateLimiter({ url: server.url, apiKey: "" })).toThrow(/apiKey/);
    expect(() =>
      createRedisRateLimiter({ url: "http://user:hunter2@example.invalid", apiKey: "k" }),
    ).toThrow(/`url` must be a redis:\/\//);
    try {
      createRedisRateLimiter({ url: "http://user:hunter2@example.invalid", apiKey: "k" });
    } catch (error) {
      expect(String(error)).not.toContain("hunter2");
    }
    expect(() =>
      createRedisRateLimiter({ url: server.url, apiKey: "k", requestsPerSecond: 0 }),
    ).toThrow(/requestsPerSecond/);
    expect(() => createRedisRateLimiter({ url: server.url, apiKey: "k", burst: 0.5 })).toThrow(
      /burst/,
    );
    expect(() =>
      createRedisRateLimiter({ url: server.url, apiKey: "k", fallback: { expectedProcesses: 0 } }),
    ).toThrow(/expectedProcesses/);
    expect(() => createRedisRateLimiter({ apiKey: "k" })).toThrow(/`url`|`redis`/);
  });
});

describe("a 429 pauses every sharer", () => {
  it("another connection waits out the pause, and its permits reserved before the 429 do not go during it", async () => {
    const apiKey = newKey();
    const a = limiter({ apiKey, requestsPerSecond: 10, burst: 1 });
    const b = limiter({ apiKey, requestsPerSecond: 10, burst: 1 });
    await b.acquire(); // the bucket is now empty: the next permits are reservations 100, 200, 300 ms out
    const start = performance.now();
    const resolved: number[] = [];
    const waiting = [b.acquire(), b.acquire(), b.acquire()].map((p) =>
      p.then(() => resolved.push(performance.now() - start)),
    );
    await sleep(30);
    const pausedAt = performance.now() - start;
    a.backOff(800, 60_000);
    expect(a.pausedFor()).toBeGreaterThan(700);
    await Promise.all(waiting);
    // A busy machine can only make a permit resolve later than it is due, never earlier: so the
    // bounds are on the earliest times each may resolve, from the moment the pause began.
    expect(Math.min(...resolved)).toBeGreaterThanOrEqual(pausedAt + 780);
    // After the pause the bucket restarts gently (one permit), then at the rate: the third is
    // due two intervals (200 ms) after the pause ends, not with the others at its end.
    expect(Math.max(...resolved)).toBeGreaterThanOrEqual(pausedAt + 780 + 150);
    expect(a.stats().rateLimited).toBe(1);
    expect(b.stats().acquired).toBe(4);
  });

  it("a pause is capped at maxMs, and B learns it through Redis (pausedFor)", async () => {
    const apiKey = newKey();
    const a = limiter({ apiKey, requestsPerSecond: 100, burst: 100 });
    const b = limiter({ apiKey, requestsPerSecond: 100, burst: 100 });
    await b.acquire();
    a.backOff(10_000, 300);
    await sleep(20);
    const start = performance.now();
    const pending = b.acquire();
    await sleep(50);
    expect(b.pausedFor()).toBeGreaterThan(100);
    expect(b.pausedFor()).toBeLessThanOrEqual(300);
    await pending;
    const waited = performance.now() - start;
    expect(waited).toBeGreaterThan(200);
    // Capped at 300 ms, not the 10 s asked for (a loaded machine adds its lag to the 300).
    expect(waited).toBeLessThan(3_000);
  });

  it("without Retry-After the pause escalates 1 s, 2 s over consecutive 429s", async () => {
    const a = limiter({ apiKey: newKey() });
    a.backOff(undefined, 60_000);
    expect(a.pausedFor()).toBeGreaterThan(900);
    expect(a.pausedFor()).toBeLessThanOrEqual(1000);
    a.backOff(undefined, 60_000);
    expect(a.pausedFor()).toBeGreaterThan(1900);
    expect(a.pausedFor()).toBeLessThanOrEqual(2000);
  });
});

describe("abort while waiting", () => {
  it("an aborted signal rejects at once with its reason and takes no permit", async () => {
    const l = limiter({ apiKey: newKey(), requestsPerSecond: 1, burst: 1 });
    const reason = new Error("stop");
    await expect(l.acquire(AbortSignal.abort(reason))).rejects.toBe(reason);
    const start = performance.now();
    await l.acquire(); // the one permit is still there
    // One Redis round trip, not the 1 s wait for the next permit (500 ms: a loaded CI machine).
    expect(performance.now() - start).toBeLessThan(500);
  });

  it("aborting a reserved permit rejects promptly and gives the permit back to the bucket", async () => {
    const apiKey = newKey();
    const l = limiter({ apiKey, requestsPerSecond: 2, burst: 1 });
    await l.acquire();
    const start = performance.now();
    const controller = new AbortController();
    const aborted = l.acquire(controller.signal); // reserved ~500 ms out
    await sleep(50);
    controller.abort(new Error("user cancelled"));
    await expect(aborted).rejects.toThrow("user cancelled");
    expect(performance.now() - start).toBeLessThan(150);
    // The refunded permit goes to the next caller at ~500 ms, not ~1000 ms.
    await sleep(20);
    await l.acquire();
    const at = performance.now() - start;
    expect(at).toBeGreaterThan(350);
    expect(at).toBeLessThan(800);
    expect(l.stats()).toMatchObject({ acquired: 2, waiting: 0 });
  });

  it("aborting a waiter queued beyond the reservation horizon rejects promptly", async () => {
    const l = limiter({
      apiKey: newKey(),
      requestsPerSecond: 2,
      burst: 1,
      maxReservationMs: 100,
    });
    await l.acquire();
    const controller = new AbortController();
    const start = performance.now();
    const waiting = l.acquire(controller.signal);
    await sleep(60);
    expect(l.stats().waiting).toBe(1);
    controller.abort(new Error("gone"));
    await expect(waiting).rejects.toThrow("gone");
    expect(performance.now() - start).toBeLessThan(150);
    expect(l.stats().waiting).toBe(0);
  });

  it("close() rejects every waiter and later calls", async () => {
    const l = createRedisRateLimiter({
      url: server.url,
      apiKey: newKey(),
      requestsPerSecond: 1,
      burst: 1,
    });
    await l.acquire();
    const reserved = l.acquire();
    const more = l.acquire();
    await sleep(30);
    const rejected = Promise.all([
      expect(reserved).rejects.toThrow(/closed/),
      expect(more).rejects.toThrow(/closed/),
    ]);
    await l.close();
    await rejected;
    await expect(l.acquire()).rejects.toThrow(/closed/);
  });
});
