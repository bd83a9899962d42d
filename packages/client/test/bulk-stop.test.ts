// When the bulk engine stops a run because the server cannot be reached (issue 20, review
// findings 1 and 2), over real HTTP on loopback against the reference server: before the run's
// first answer it stops at once; after it, a short outage (a restart, a token provider's blip)
// is survived by the per-record re-send, and only a lasting one stops the run, resumable:
// records not attempted, never failed, and the stop said in `report.stopped`, not in words.
import { startMockServer } from "@vbapi-sdk/mock-server";
import { describe, expect, it } from "vitest";
import { BulkInputError } from "../src/base/errors.ts";
import { DEFAULT_BACKOFF } from "../src/base/retry.ts";
import { upsertAllTolerances } from "../src/bulk/index.ts";
import { createVbapiClient } from "../src/client/client.ts";
import { closedPort } from "./helpers.ts";

const quiet = { debug() {}, info() {}, warn() {}, error() {} };
const fastBackoff = { initialDelayMs: 20, maxDelayMs: 100 };
const tolerances = (n: number) =>
  Array.from({ length: n }, (_, i) => ({ tolerance_Key: i + 1, tolerance1: i }));

function clientOf(
  baseUrl: string,
  token: string | (() => Promise<string>) = "test-token",
  backoff = fastBackoff,
) {
  return createVbapiClient({
    baseUrl,
    apiKey: "test-api-key",
    token,
    database: "DB",
    rateLimit: false,
    backoff,
    maxRetries: 2,
    logger: quiet,
  });
}

describe("a bulk run and an unreachable server", () => {
  // The waiting cases run side by side (each with its own server on its own port): the file's
  // time is its longest outage, not their sum.
  // 2.5 s: the blip the first fix survived; 3 s and 5 s: a restart (review 2, finding A).
  it.concurrent.each([2500, 3000, 5000])(
    "a server down for %i ms mid-run: every record is created",
    async (downMs) => {
      let server = await startMockServer({ rateLimit: false });
      const port = server.port;
      const n = 400;
      let restarted: Promise<void> | undefined;
      async function* records() {
        for (const record of tolerances(n)) {
          if (record.tolerance_Key === 100) {
            await server.close();
            restarted = new Promise((resolve) =>
              setTimeout(async () => {
                server = await startMockServer({ rateLimit: false, port });
                resolve();
              }, downMs),
            );
          }
          yield record;
        }
      }
      try {
        // The client's default backoff, as in the review's repro (r4).
        const client = clientOf(server.url, "test-token", DEFAULT_BACKOFF);
        const report = await upsertAllTolerances(client, records(), {
          chunkSize: 10,
          concurrency: 2,
        });
        await restarted;
        expect(report.stopped).toBeUndefined();
        expect(report.totals).toMatchObject({ total: n, failed: 0, notAttempted: 0 });
        expect(report.totals.created + report.totals.updated).toBe(n);
      } finally {
        await server.close();
      }
    },
    30_000,
  );

  // Review 2, finding D: one request finds the server unreachable before the first answer (the
  // run stops); another, in flight, is answered a moment later with a per-record status.
  it.concurrent.each([
    [503, "not_attempted"],
    [429, "not_attempted"],
    [422, "failed"],
  ])("a per-record %i answered just after the stop: %s", async (status, outcome) => {
    const server = await startMockServer({ rateLimit: false });
    const keyOf = (r: unknown) => String((r as { tolerance_Key: unknown }).tolerance_Key);
    server.faults.failRecords({ status, predicate: (r) => keyOf(r) === "1", message: "busy" });
    const fetchFn: typeof fetch = async (input, init) => {
      if (String(init?.body ?? "").includes('"tolerance_Key":1,')) {
        await new Promise((resolve) => setTimeout(resolve, 300));
        return fetch(input, init);
      }
      const cause = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:1"), {
        code: "ECONNREFUSED",
      });
      throw new TypeError("fetch failed", { cause });
    };
    const client = createVbapiClient({
      baseUrl: server.url,
      apiKey: "test-api-key",
      token: "test-token",
      database: "DB",
      rateLimit: false,
      maxRetries: 0,
      logger: quiet,
      fetch: fetchFn,
    });
    try {
      const report = await upsertAllTolerances(client, tolerances(4), {
        chunkSize: 1,
        concurrency: 2,
      });
      expect(report.stopped?.reason).toBe("unreachable");
      const first = report.items[0];
      expect(first).toMatchObject({ outcome, attempts: 1, mayHaveBeenApplied: false });
      if (outcome === "failed") expect(first?.status).toBe(status);
      else expect(first).toMatchObject({ status: 0, message: report.stopped?.message });
      expect(first?.stopped).toBe(outcome === "failed" ? undefined : "unreachable");
      expect(report.totals).toMatchObject({ total: 4, failed: outcome === "failed" ? 1 : 0 });
      expect(report.items.slice(1).every((i) => i.outcome === "not_attempted")).toBe(true);
    } finally {
      await server.close();
    }
  });

  it.concurrent("a token provider failing for 2 s: every record is created", async () => {
    const server = await startMockServer({ rateLimit: false });
    const failingUntil = performance.now() + 2000;
    let calls = 0;
    const token = async () => {
      calls++;
      if (performance.now() < failingUntil) throw new Error("vault: 503");
      return "test-token";
    };
    try {
      // The client's default backoff, as in the review's repro (r6).
      const client = clientOf(server.url, token, DEFAULT_BACKOFF);
      const report = await upsertAllTolerances(client, tolerances(300), {
        chunkSize: 20,
        concurrency: 1,
      });
      expect(calls).toBeGreaterThan(2);
      expect(report.stopped).toBeUndefined();
      expect(report.totals).toMatchObject({ total: 300, failed: 0, notAttempted: 0 });
      expect(report.totals.created).toBe(300);
    } finally {
      await server.close();
    }
  }, 30_000);

  it.concurrent("a token provider failing from the start is the provider's failure, not an unreachable server", async () => {
    const server = await startMockServer({ rateLimit: false });
    const token = async (): Promise<string> => {
      throw new Error("vault: 503");
    };
    try {
      const report = await upsertAllTolerances(clientOf(server.url, token), tolerances(30), {
        chunkSize: 10,
        concurrency: 1,
        recordRetryDelayMs: 0,
      });
      expect(report.totals).toMatchObject({ total: 30, failed: 0, notAttempted: 30 });
      expect(report.stopped?.reason).toBe("error");
      expect(report.stopped?.message).toContain("the token provider failed");
      // It threw at once: no timeout is claimed, and its own words stay out of the message.
      expect(report.stopped?.message).not.toContain("did not answer");
      expect(report.stopped?.message).not.toContain("vault");
      const words = JSON.stringify(report);
      expect(words).not.toContain("could not be reached");
      expect(server.store.list("DB", "Tolerance")).toHaveLength(0);
    } finally {
      await server.close();
    }
  }, 30_000);

  it.concurrent("a lasting mid-run outage: a resumable stop, nothing failed, every array record reported", async () => {
    const server = await startMockServer({ rateLimit: false });
    const n = 3000;
    let stopped = false;
    // The server goes away between two requests (none in flight, so none may have been applied).
    const fetchFn: typeof fetch = async (input, init) => {
      if (server.store.list("DB", "Tolerance").length >= 200 && !stopped) {
        stopped = true;
        await server.close();
        // Let the client's pool see its kept-alive connections closed (else one may be reset).
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      return fetch(input, init);
    };
    const client = createVbapiClient({
      baseUrl: server.url,
      apiKey: "test-api-key",
      token: "test-token",
      database: "DB",
      rateLimit: false,
      backoff: fastBackoff,
      maxRetries: 2,
      logger: quiet,
      fetch: fetchFn,
    });
    try {
      const report = await upsertAllTolerances(client, tolerances(n), {
        chunkSize: 20,
        concurrency: 1,
        recordRetryDelayMs: 50,
      });
      expect(report.stopped?.reason).toBe("unreachable");
      expect(report.stopped?.message).toContain("the connection was refused (ECONNREFUSED)");
      expect(report.totals.total).toBe(n);
      expect(report.items).toHaveLength(n);
      expect(report.totals.failed).toBe(0);
      expect(report.totals.created).toBeGreaterThanOrEqual(200);
      expect(report.totals.created + report.totals.notAttempted).toBe(n);
      const unsent = report.items.filter((item) => item.outcome === "not_attempted");
      expect(unsent.every((item) => item.attempts === 0 && !item.mayHaveBeenApplied)).toBe(true);
      expect(unsent.every((item) => item.stopped === "unreachable")).toBe(true);
      expect(unsent[0]?.message).toBe(report.stopped?.message);
    } finally {
      await server.close();
    }
  }, 30_000);

  it("before the first answer: stops at once, every record not attempted", async () => {
    const port = await closedPort();
    const started = performance.now();
    const report = await upsertAllTolerances(clientOf(`http://127.0.0.1:${port}`), tolerances(50), {
      chunkSize: 5,
      concurrency: 2,
      recordRetryDelayMs: 1000,
    });
    // Not the record retries (3 x 1 s): stopped at the first refusal.
    expect(performance.now() - started).toBeLessThan(2_500);
    expect(report.stopped?.reason).toBe("unreachable");
    expect(report.totals).toMatchObject({ total: 50, failed: 0, notAttempted: 50 });
  });

  it("a 207 whose per-record text says 'could not be reached' fails that record and does not stop", async () => {
    const server = await startMockServer({ rateLimit: false });
    server.faults.failRecords({
      status: 422,
      predicate: (r) => String((r as { tolerance_Key: unknown }).tolerance_Key) === "3",
      message: "not sent: the run stopped, the server could not be reached (x)",
    });
    try {
      const report = await upsertAllTolerances(clientOf(server.url), tolerances(5), {});
      expect(report.stopped).toBeUndefined();
      expect(report.totals).toMatchObject({ total: 5, created: 4, failed: 1 });
    } finally {
      await server.close();
    }
  });

  it("an input that fails: the report on BulkInputError says the run stopped, reason error", async () => {
    const server = await startMockServer({ rateLimit: false });
    async function* records() {
      yield* tolerances(3);
      throw new Error("disk gone");
    }
    try {
      const error = await upsertAllTolerances(clientOf(server.url), records()).catch((e) => e);
      expect(error).toBeInstanceOf(BulkInputError);
      expect((error as BulkInputError).report.stopped).toEqual({
        reason: "error",
        message: "not sent: reading the input failed",
      });
    } finally {
      await server.close();
    }
  });
});
