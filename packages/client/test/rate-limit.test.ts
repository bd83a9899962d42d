import { describe, expect, it } from "vitest";
import { RateLimiter } from "../src/transport/rate-limit.ts";

function clock() {
  let t = 1000;
  return {
    now: () => t,
    advance: (ms: number) => {
      t += ms;
    },
  };
}

describe("RateLimiter", () => {
  it("allows a burst, then refills at the sustained rate", () => {
    const c = clock();
    const limiter = new RateLimiter({ requestsPerSecond: 10, burst: 5 }, c.now);
    let n = 0;
    while (limiter.tryAcquire()) n++;
    expect(n).toBe(5);
    c.advance(100);
    expect(limiter.tryAcquire()).toBe(true);
    expect(limiter.tryAcquire()).toBe(false);
    c.advance(10_000);
    n = 0;
    while (limiter.tryAcquire()) n++;
    expect(n).toBe(5);
  });

  it("pauses everyone on a 429 and backs off exponentially without Retry-After", () => {
    const c = clock();
    const limiter = new RateLimiter({ requestsPerSecond: 10, burst: 5 }, c.now);
    expect(limiter.backOff(2000)).toBe(2000);
    expect(limiter.tryAcquire()).toBe(false);
    expect(limiter.pausedFor()).toBe(2000);
    c.advance(2100);
    expect(limiter.tryAcquire()).toBe(true);
    expect(limiter.backOff()).toBe(2000); // second consecutive 429: 1 s * 2
    expect(limiter.backOff()).toBe(4000);
    limiter.onSuccess();
    expect(limiter.backOff()).toBe(1000);
    expect(limiter.stats().rateLimited).toBe(4);
  });

  it("hands out tokens in FIFO order over real time", async () => {
    const limiter = new RateLimiter({ requestsPerSecond: 200, burst: 1 });
    const order: number[] = [];
    const start = performance.now();
    await Promise.all([0, 1, 2, 3, 4].map((i) => limiter.acquire().then(() => order.push(i))));
    expect(order).toEqual([0, 1, 2, 3, 4]);
    // 4 tokens at 200/s need at least ~20 ms.
    expect(performance.now() - start).toBeGreaterThanOrEqual(15);
  });

  it("rejects a waiter whose signal aborts, and keeps serving the others", async () => {
    const limiter = new RateLimiter({ requestsPerSecond: 50, burst: 1 });
    expect(limiter.tryAcquire()).toBe(true);
    const controller = new AbortController();
    const aborted = limiter.acquire(controller.signal);
    const other = limiter.acquire();
    controller.abort(new Error("stop"));
    await expect(aborted).rejects.toThrow("stop");
    await expect(other).resolves.toBeUndefined();
    expect(limiter.stats().waiting).toBe(0);
  });

  it("false removes the cap but keeps the shared 429 pause", () => {
    const c = clock();
    const limiter = new RateLimiter(false, c.now);
    for (let i = 0; i < 10_000; i++) expect(limiter.tryAcquire()).toBe(true);
    limiter.pause(500);
    expect(limiter.tryAcquire()).toBe(false);
    c.advance(501);
    expect(limiter.tryAcquire()).toBe(true);
  });
});
