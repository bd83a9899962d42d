// Simulated latency: every API answer (not admin) is held back by timers, so many requests wait
// at once and the event loop stays free.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type MockServer, startMockServer } from "../src/index.ts";
import { admin, put } from "./helpers.ts";

const tol = [{ tolerance_Key: 1, tolerance1: 1 }];

async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t0 = performance.now();
  const value = await fn();
  return { ms: performance.now() - t0, value };
}

describe("latency", () => {
  let server: MockServer;
  beforeAll(async () => {
    server = await startMockServer({
      rateLimit: false,
      latency: { fixedMs: 150, jitterMs: 100 },
      random: () => 0.5,
    });
  });
  afterAll(() => server.close());
  beforeEach(() => {
    server.reset();
    server.setLatency({ fixedMs: 150, jitterMs: 100 });
  });

  it("holds every API answer back by fixedMs + jitter, errors included", async () => {
    const ok = await timed(() => put(server, "/tolerances-batch", tol));
    expect(ok.value.status).toBe(207);
    expect(ok.ms).toBeGreaterThanOrEqual(195); // 150 + 100 * 0.5, less timer granularity
    expect(ok.ms).toBeLessThan(600);
    const refused = await timed(() => put(server, "/tolerances-batch", tol, { "x-api-key": "no" }));
    expect(refused.value.status).toBe(401);
    expect(refused.ms).toBeGreaterThanOrEqual(195);
    const notFound = await timed(() => put(server, "/nowhere", tol));
    expect(notFound.value.status).toBe(404);
    expect(notFound.ms).toBeGreaterThanOrEqual(195);
  });

  it("waits on timers: 40 concurrent requests take one latency, not forty", async () => {
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 10);
    const all = await timed(() =>
      Promise.all(
        Array.from({ length: 40 }, (_, i) =>
          put(server, "/tolerances-batch", [{ tolerance_Key: i, tolerance1: 1 }]),
        ),
      ),
    );
    clearInterval(ticker);
    expect(all.value.every((r) => r.status === 207)).toBe(true);
    expect(all.ms).toBeGreaterThanOrEqual(195);
    expect(all.ms).toBeLessThan(1500);
    expect(ticks).toBeGreaterThanOrEqual(10); // the loop kept turning while answers waited
    expect(server.store.count("testdb", "Tolerance")).toBe(40);
  });

  it("does not delay the admin endpoint, and is settable there", async () => {
    const read = await timed(() => admin(server, "GET", "/latency"));
    expect(read.value.json).toEqual({ latency: { fixedMs: 150, jitterMs: 100 } });
    expect(read.ms).toBeLessThan(120);
    const off = await admin(server, "PUT", "/latency", false);
    expect(off.json).toEqual({ latency: false });
    expect(server.latency).toBe(false);
    const fast = await timed(() => put(server, "/tolerances-batch", tol));
    expect(fast.ms).toBeLessThan(120);
    const set = await admin(server, "PUT", "/latency", { fixedMs: 300 });
    expect(set.json).toEqual({ latency: { fixedMs: 300, jitterMs: 0 } });
    const slow = await timed(() => put(server, "/tolerances-batch", tol));
    expect(slow.ms).toBeGreaterThanOrEqual(295);
  });

  it("refuses bad settings by field, over the admin API and programmatically", async () => {
    for (const [body, field] of [
      [{ fixedMs: -1 }, /fixedMs/],
      [{ jitterMs: "100" }, /jitterMs/],
      [{ fixedMs: 1e9 }, /fixedMs/],
      [{ latencyMs: 5 }, /latencyMs/],
      [[1], /latency must be/],
    ] as const) {
      const res = await admin(server, "PUT", "/latency", body);
      expect(res.status).toBe(400);
      expect(res.json.detail).toMatch(field);
    }
    expect(server.latency).toEqual({ fixedMs: 150, jitterMs: 100 });
    expect(() => server.setLatency({ fixedMs: Number.NaN })).toThrow(RangeError);
    await expect(startMockServer({ latency: { fixedMs: -5 } })).rejects.toThrow(/fixedMs/);
  });

  it("answers a request once even when the client gives up while it waits", async () => {
    const controller = new AbortController();
    const pending = fetch(`${server.url}/tolerances-batch`, {
      method: "PUT",
      headers: {
        ...server.credentials.headers,
        "vbasoftware-database": "testdb",
        "content-type": "application/json",
      },
      body: JSON.stringify(tol),
      signal: controller.signal,
    });
    setTimeout(() => controller.abort(), 50);
    await expect(pending).rejects.toThrow();
    await new Promise((r) => setTimeout(r, 300));
    expect((await put(server, "/tolerances-batch", tol)).status).toBe(207);
  });
});
