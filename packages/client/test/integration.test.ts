// Over real HTTP on loopback, against the reference server.
import { type MockServer, startMockServer } from "@vbapi-sdk/mock-server";
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import {
  AbortError,
  AuthenticationError,
  BadRequestError,
  ConnectionError,
  createVbapiClient,
  NOT_REPORTED_MESSAGE,
  ResponseParseError,
  TimeoutError,
  type VbapiClientOptions,
} from "../src/index.ts";

let server: MockServer;
const validTokens = new Set(["test-token"]);

beforeAll(async () => {
  server = await startMockServer({ rateLimit: false, validateToken: (t) => validTokens.has(t) });
});
afterAll(() => server.close());
beforeEach(() => server.reset());

function client(options: VbapiClientOptions = {}) {
  return createVbapiClient({
    baseUrl: server.url,
    apiKey: server.credentials.apiKey,
    token: server.credentials.token,
    database: "itest",
    backoff: { initialDelayMs: 5, maxDelayMs: 20 },
    logLevel: "off",
    ...options,
  });
}

const tol = (key: number, tolerance1 = 1.25) => ({
  tolerance_Key: key,
  tolerance1,
  group_ID: "GRP1",
});

describe("against the reference server", () => {
  it("reports created, then updated, then failed records in input order", async () => {
    const c = client();
    const first = await c.upsertBatch("Tolerance", [tol(1), tol(2)]);
    expect(first.items.map((i) => [i.key.tolerance_Key, i.outcome, i.status])).toEqual([
      [1, "created", 201],
      [2, "created", 201],
    ]);
    expect(first.activityId).toMatch(/.+/);

    server.faults.add({
      type: "fail-records",
      keys: [{ tolerance_Key: 3 }],
      status: 500,
      message: "Conversion failed",
    });
    const second = await c.upsertBatch("Tolerance", [tol(2, 9), tol(3), tol(4)]);
    expect(second.items).toEqual([
      { index: 0, key: { tolerance_Key: 2 }, status: 200, outcome: "updated", message: "Updated" },
      {
        index: 1,
        key: { tolerance_Key: 3 },
        status: 500,
        outcome: "failed",
        message: "Conversion failed",
      },
      { index: 2, key: { tolerance_Key: 4 }, status: 201, outcome: "created", message: "Created" },
    ]);
    expect(second).toMatchObject({ succeeded: 2, failed: 1 });
    expect(server.store.get("itest", "Tolerance", { tolerance_Key: 2 })?.body).toMatchObject({
      tolerance1: 9,
    });
  });

  it("handles every entity, including the ProviderCredService path key", async () => {
    const c = client();
    const r = await c.upsertBatch(
      "ProviderCredService",
      [
        { providerCred_Key: 5021, credService_Key: 3, percentage: 40 },
        { providerCred_Key: 5021, credService_Key: 4 },
      ],
      { pathParams: { providerCredKey: 5021 } },
    );
    expect(r.items.map((i) => i.key)).toEqual([
      { providerCred_Key: 5021, credService_Key: 3 },
      { providerCred_Key: 5021, credService_Key: 4 },
    ]);
    expect(r.succeeded).toBe(2);
    expect(
      (
        await c.upsertBatch("Event", [
          {
            event_ID: 1,
            claim_Audit_Event: false,
            process_Automation_Event: false,
            reminder: true,
          },
        ])
      ).succeeded,
    ).toBe(1);
    expect(
      (
        await c.upsertBatch("ArmorCodeExCode", [
          { armorCodeExCode_Key: 1, armor_Code: "A1", ex_Code: "E1" },
        ])
      ).succeeded,
    ).toBe(1);
    expect(
      (
        await c.upsertBatch("ClaimPromptPay", [
          { claimPromptPay_Key: 1, prompt_Pay_Duration_Type: "D" },
        ])
      ).succeeded,
    ).toBe(1);
  });

  it("marks records the server left out of its answer as failed with status 0", async () => {
    server.faults.add({ type: "omit-records", keys: [{ tolerance_Key: 2 }] });
    const r = await client().upsertBatch("Tolerance", [tol(1), tol(2), tol(3)]);
    expect(r.items[1]).toEqual({
      index: 1,
      key: { tolerance_Key: 2 },
      status: 0,
      outcome: "failed",
      message: NOT_REPORTED_MESSAGE,
    });
    expect(r.items.map((i) => i.outcome)).toEqual(["created", "failed", "created"]);
  });

  it("the server's 400 (records it rejects) is a BadRequestError", async () => {
    const error = await client()
      .upsertBatch("Tolerance", [{ tolerance_Key: 1, tolerance1: "x" } as never], {
        validate: false,
      })
      .catch((e) => e);
    expect(error).toBeInstanceOf(BadRequestError);
    expect(error.detail).toMatch(/record 0/);
  });

  it("refreshes an expired token once (the token function is called again)", async () => {
    const issued = ["expired-token", "test-token"];
    const token = vi.fn(async () => issued.shift() ?? "test-token");
    const r = await client({ token }).upsertBatch("Tolerance", [tol(1)]);
    expect(r.succeeded).toBe(1);
    expect(token).toHaveBeenCalledTimes(2);
    expect(server.stats.byStatus["401"]).toBe(1);
  });

  it("a token the server keeps refusing ends in AuthenticationError", async () => {
    const error = await client({ token: async () => "never-valid" })
      .upsertBatch("Tolerance", [tol(1)])
      .catch((e) => e);
    expect(error).toBeInstanceOf(AuthenticationError);
    expect(error.status).toBe(401);
  });

  it("retries 429 (honouring Retry-After) and 503", async () => {
    server.faults.failNext(1, 429, { retryAfter: 0 });
    server.faults.failNext(1, 503);
    const c = client();
    const r = await c.upsertBatch("Tolerance", [tol(1)]);
    expect(r.succeeded).toBe(1);
    expect(server.stats.byStatus).toMatchObject({ "429": 1, "503": 1, "207": 1 });
    expect(c.rateLimiter.stats().rateLimited).toBe(1);
  });

  it("backs off from the server's own rate limiter with one shared bucket", async () => {
    server.setRateLimit({ requestsPerSecond: 20, burst: 3 });
    const c = client({ rateLimit: false, maxRetries: 5 });
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) => c.upsertBatch("Tolerance", [tol(i)])),
    );
    expect(results.every((r) => r.succeeded === 1)).toBe(true);
    expect(server.stats.byStatus["429"]).toBeGreaterThan(0);
    expect(server.store.count("itest", "Tolerance")).toBe(8);
  });

  it("an answer slower than timeoutMs is retried; the record was applied once per attempt", async () => {
    // A 1 s timeout against a 2 s hold (the retry's own round trip must fit in the timeout,
    // also on a machine busy with the whole suite).
    server.faults.delay(2_000, { count: 1 });
    const r = await client({ timeoutMs: 1_000 }).upsertBatch("Tolerance", [tol(1)]);
    expect(r.items[0]?.outcome).toBe("updated"); // the timed-out attempt had already stored it
    expect(server.store.get("itest", "Tolerance", { tolerance_Key: 1 })?.writes).toBe(2);
  });

  it("times out when every attempt is too slow", async () => {
    server.faults.delay(300);
    const error = await client({ timeoutMs: 60, maxRetries: 1 })
      .upsertBatch("Tolerance", [tol(1)])
      .catch((e) => e);
    expect(error).toBeInstanceOf(TimeoutError);
    expect(error.mayHaveBeenApplied).toBe(true);
  });

  it("aborts when the caller's signal fires", async () => {
    server.faults.delay(1000);
    const error = await client()
      .upsertBatch("Tolerance", [tol(1)], { signal: AbortSignal.timeout(50) })
      .catch((e) => e);
    expect(error).toBeInstanceOf(AbortError);
  });

  it("a 207 whose body is not JSON is a ResponseParseError", async () => {
    // Faults aimed at this test's own database: a request an earlier test gave up on may still
    // reach the server (the delayed ones above) and would take a fault meant for any request.
    const database = "itest-badbody";
    const target = { database };
    server.faults.badBody("non-json", { target });
    await expect(client({ database }).upsertBatch("Tolerance", [tol(1)])).rejects.toBeInstanceOf(
      ResponseParseError,
    );
    server.faults.badBody("truncated", { target });
    await expect(client({ database }).upsertBatch("Tolerance", [tol(1)])).rejects.toBeInstanceOf(
      ResponseParseError,
    );
  });

  it("re-sends after a connection reset; without retries it is an ambiguous ConnectionError", async () => {
    server.faults.resetConnection({ phase: "after-apply" });
    const r = await client().upsertBatch("Tolerance", [tol(1)]);
    expect(r.items[0]?.outcome).toBe("updated");
    expect(server.store.get("itest", "Tolerance", { tolerance_Key: 1 })?.writes).toBe(2);

    server.faults.resetConnection({ phase: "after-apply" });
    const error = await client({ maxRetries: 0 })
      .upsertBatch("Tolerance", [tol(2)])
      .catch((e) => e);
    expect(error).toBeInstanceOf(ConnectionError);
    expect(error.mayHaveBeenApplied).toBe(true);
  });

  it("a refused connection is a ConnectionError that was not applied", async () => {
    const closed = await startMockServer({ rateLimit: false });
    const url = closed.url;
    await closed.close();
    const error = await client({ baseUrl: url, maxRetries: 1 })
      .upsertBatch("Tolerance", [tol(1)])
      .catch((e) => e);
    expect(error).toBeInstanceOf(ConnectionError);
    expect(error.mayHaveBeenApplied).toBe(false);
  });

  it("the raw client works against the server without a database header per call", async () => {
    const { data, response } = await client().raw.PUT("/tolerances-batch", { body: [tol(7)] });
    expect(response.status).toBe(207);
    expect(data?.data?.[0]?.status).toBe(201);
    expect(server.store.databases()).toEqual(["itest"]);
  });
});
