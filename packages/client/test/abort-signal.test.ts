// One caller signal over runs of any length: a bulk run or a call adds at most one listener to the
// caller's AbortSignal and removes it when it settles, so hundreds of requests in flight and
// dozens of concurrent calls never print MaxListenersExceededWarning, and an abort before,
// during or after still ends everything it should. Real HTTP against the reference server.
import { getEventListeners } from "node:events";
import { type MockServer, startMockServer } from "@vbapi-sdk/mock-server";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { linkSignal } from "../src/base/abort-link.ts";
import { AbortError } from "../src/base/errors.ts";
import { upsertAllTolerances } from "../src/bulk/index.ts";
import { createVbapiClient } from "../src/client/client.ts";

let server: MockServer;
const warnings: Error[] = [];
const onWarning = (warning: Error) => warnings.push(warning);

beforeAll(async () => {
  server = await startMockServer({ rateLimit: false, latency: { fixedMs: 20, jitterMs: 10 } });
});
afterAll(async () => {
  await server?.close();
});
beforeEach(() => {
  warnings.length = 0;
  process.on("warning", onWarning);
});
afterEach(async () => {
  // A warning is emitted on a later tick than the listener that caused it.
  await new Promise((resolve) => setImmediate(resolve));
  process.off("warning", onWarning);
  expect(warnings.map((w) => `${w.name}: ${w.message}`)).toEqual([]);
});

const client = (options: Parameters<typeof createVbapiClient>[0] = {}) =>
  createVbapiClient({
    baseUrl: server.url,
    apiKey: server.credentials.apiKey,
    token: server.credentials.token,
    database: "signaldb",
    rateLimit: false,
    ...options,
  });

const tolerances = (n: number, from = 1) =>
  Array.from({ length: n }, (_, i) => ({ tolerance_Key: from + i, tolerance1: 2 }));

const listeners = (signal: AbortSignal) => getEventListeners(signal, "abort").length;

describe("one caller signal", () => {
  it("300 requests of a bulk run and 50 concurrent calls: at most one listener, none left, no warning", async () => {
    const controller = new AbortController();
    const { signal } = controller;
    let most = 0;
    const watch = setInterval(() => {
      most = Math.max(most, listeners(signal));
    }, 1);
    const c = client();
    const [report, ...results] = await Promise.all([
      upsertAllTolerances(c, tolerances(300), { chunkSize: 1, concurrency: 48, signal }),
      ...Array.from({ length: 50 }, (_, i) =>
        c.upsertBatch("Tolerance", tolerances(2, 1_000 + 2 * i), { signal }),
      ),
    ]);
    clearInterval(watch);
    expect(report.totals.created + report.totals.updated).toBe(300);
    expect(results.every((r) => r.succeeded === 2)).toBe(true);
    expect(most).toBe(1);
    expect(listeners(signal)).toBe(0);
  });

  it("runs one after another on one signal (an hours-long service) leave no listener behind", async () => {
    const { signal } = new AbortController();
    const c = client();
    for (let round = 0; round < 20; round++) {
      await upsertAllTolerances(c, tolerances(20, round * 20 + 1), { chunkSize: 2, signal });
      await c.upsertBatch("Tolerance", tolerances(1, 9_000 + round), { signal });
    }
    expect(listeners(signal)).toBe(0);
  });

  it("an abort during a run with many requests in flight ends all of them, and every record is accounted for", async () => {
    const controller = new AbortController();
    const c = client();
    const run = upsertAllTolerances(c, tolerances(400, 20_000), {
      chunkSize: 1,
      concurrency: 40,
      signal: controller.signal,
    });
    const calls = Array.from({ length: 30 }, (_, i) =>
      c.upsertBatch("Tolerance", tolerances(1, 30_000 + i), { signal: controller.signal }).then(
        () => "done",
        (e: unknown) => e,
      ),
    );
    setTimeout(() => controller.abort(), 60);
    const report = await run;
    const outcomes = await Promise.all(calls);
    const t = report.totals;
    expect(t.created + t.updated + t.failed + t.notAttempted).toBe(400);
    expect(t.notAttempted + t.failed).toBeGreaterThan(0);
    for (const outcome of outcomes) {
      if (outcome !== "done") expect(outcome).toBeInstanceOf(AbortError);
    }
    expect(listeners(controller.signal)).toBe(0);
  });

  it("a signal aborted before the call sends nothing; one aborted after changes nothing", async () => {
    const before = new AbortController();
    before.abort();
    const requests = server.stats.requests;
    await expect(
      client().upsertBatch("Tolerance", tolerances(1, 50_000), { signal: before.signal }),
    ).rejects.toBeInstanceOf(AbortError);
    const report = await upsertAllTolerances(client(), tolerances(5, 50_001), {
      signal: before.signal,
    });
    expect(report.totals.notAttempted).toBe(5);
    expect(server.stats.requests).toBe(requests);
    const after = new AbortController();
    const result = await client().upsertBatch("Tolerance", tolerances(1, 50_010), {
      signal: after.signal,
    });
    after.abort();
    expect(result.succeeded).toBe(1);
    expect(listeners(after.signal)).toBe(0);
  });
});

describe("one caller signal when the input fails or hangs", () => {
  it("an input that throws, an onRecord that throws and an input that hangs until the abort leave no listener", async () => {
    const { signal } = new AbortController();
    async function* throwing() {
      yield* tolerances(30, 60_000);
      throw new Error("the file ended badly");
    }
    const first = await upsertAllTolerances(client(), throwing(), { chunkSize: 3, signal }).catch(
      (e: unknown) => e,
    );
    expect((first as Error).name).toBe("BulkInputError");
    const second = await upsertAllTolerances(client(), tolerances(30, 61_000), {
      chunkSize: 3,
      signal,
      onRecord() {
        throw new Error("the caller's callback failed");
      },
    }).catch((e: unknown) => e);
    expect((second as Error).name).toBe("BulkCallbackError");
    expect(listeners(signal)).toBe(0);

    const hang = new AbortController();
    async function* hanging() {
      yield* tolerances(5, 62_000);
      await new Promise(() => {}); // a source that never answers again
    }
    const started = Date.now();
    setTimeout(() => hang.abort(), 200);
    const report = await upsertAllTolerances(client(), hanging(), { signal: hang.signal });
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(
      report.totals.created + report.totals.updated + report.totals.failed,
    ).toBeLessThanOrEqual(5);
    expect(listeners(hang.signal)).toBe(0);
  });
});

describe("one caller signal on the other paths", () => {
  it("50 concurrent raw calls on one signal: no warning, and an abort still ends them", async () => {
    // openapi-fetch builds a Request with the caller's signal (middleware may copy it), and
    // undici follows that signal until the Request is collected (raising the signal's listener
    // limit as it does); the SDK adds nothing of its own to it.
    const controller = new AbortController();
    const { signal } = controller;
    const c = client();
    // A middleware that copies the request, as users write them, still works.
    c.raw.use({ onRequest: ({ request }) => new Request(request, { headers: request.headers }) });
    const answers = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        c.raw.PUT("/tolerances-batch", {
          params: { header: { "vbasoftware-database": "signaldb" } },
          body: tolerances(1, 70_000 + i),
          signal,
        }),
      ),
    );
    expect(answers.every((a) => a.response.status === 207)).toBe(true);
    controller.abort(new Error("stop"));
    await expect(
      c.raw.PUT("/tolerances-batch", {
        params: { header: { "vbasoftware-database": "signaldb" } },
        body: tolerances(1, 71_000),
        signal,
      }),
    ).rejects.toBeInstanceOf(AbortError);
  });

  it("30 callers waiting on the public rate limiter with one signal: one listener; an abort rejects them all", async () => {
    const c = client({ rateLimit: { requestsPerSecond: 1, burst: 1 } });
    const controller = new AbortController();
    const waits = Array.from({ length: 30 }, () =>
      c.rateLimiter.acquire(controller.signal).then(
        () => "ok",
        (e: unknown) => e,
      ),
    );
    expect(listeners(controller.signal)).toBe(1);
    const reason = new Error("shutting down");
    controller.abort(reason);
    const outcomes = await Promise.all(waits);
    expect(outcomes.filter((o) => o === "ok")).toHaveLength(1); // the burst's one permit
    expect(outcomes.filter((o) => o === reason)).toHaveLength(29);
    expect(listeners(controller.signal)).toBe(0);
  });

  it("an input that cannot be read at all leaves no listener", async () => {
    const { signal } = new AbortController();
    for (const input of [
      42,
      null,
      {
        [Symbol.iterator]: () => {
          throw new Error("boom");
        },
      },
    ]) {
      await expect(upsertAllTolerances(client(), input as never, { signal })).rejects.toThrow();
    }
    expect(listeners(signal)).toBe(0);
  });

  it("an aborted call's AbortError carries the caller's reason as its cause", async () => {
    const controller = new AbortController();
    const reason = new Error("the job was cancelled");
    const call = client().upsertBatch("Tolerance", tolerances(1, 80_000), {
      signal: controller.signal,
    });
    controller.abort(reason);
    const error = await call.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AbortError);
    expect((error as Error).cause).toBe(reason);
  });
});

describe("linkSignal", () => {
  it("follows the caller with one listener for any number of links, and lets go with the last", () => {
    const controller = new AbortController();
    const links = Array.from({ length: 1_000 }, () => linkSignal(controller.signal));
    expect(listeners(controller.signal)).toBe(1);
    for (const link of links.slice(1)) link.release();
    expect(listeners(controller.signal)).toBe(1);
    (links[0] as ReturnType<typeof linkSignal>).release();
    (links[0] as ReturnType<typeof linkSignal>).release(); // twice is harmless
    expect(listeners(controller.signal)).toBe(0);
    const live = linkSignal(controller.signal);
    const reason = new Error("stop");
    controller.abort(reason);
    expect(live.signal?.aborted).toBe(true);
    expect(live.signal?.reason).toBe(reason);
    live.release();
    // A link taken after the abort is aborted at once, with the same reason.
    expect(linkSignal(controller.signal).signal?.reason).toBe(reason);
    expect(linkSignal(undefined).signal).toBeUndefined();
  });
});
