import { request } from "node:http";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { apiKeyId, type MockServer, startMockServer } from "../src/index.ts";
import { admin, put } from "./helpers.ts";

const record = [
  { event_ID: 1, claim_Audit_Event: false, process_Automation_Event: false, reminder: true },
];

function expectProblem(
  res: { status: number; contentType: string | null; json: Record<string, unknown> },
  status: number,
) {
  expect(res.status).toBe(status);
  expect(res.contentType).toBe("application/problem+json");
  expect(res.json).toMatchObject({
    status,
    instance: expect.any(String),
    title: expect.any(String),
  });
  expect(typeof res.json.type).toBe("string");
  expect(typeof res.json.detail).toBe("string");
}

describe("authentication, User-Agent, database header, routing", () => {
  let server: MockServer;
  let tokenValid = true;
  beforeAll(async () => {
    server = await startMockServer({
      rateLimit: false,
      apiKeys: ["key-1", "key-2"],
      validateToken: (t) => tokenValid && t === "tok",
    });
  });
  afterAll(() => server.close());
  beforeEach(() => {
    tokenValid = true;
    server.reset();
  });
  const good = { "x-api-key": "key-2", authorization: "Bearer tok" };

  it("accepts a configured key and a token the validator accepts", async () => {
    expect((await put(server, "/events-batch", record, good)).status).toBe(207);
  });

  it("answers 401 problem details without key, with a wrong key, without or with a bad token", async () => {
    const cases: Array<Record<string, string | undefined>> = [
      { ...good, "x-api-key": undefined },
      { ...good, "x-api-key": "nope" },
      { ...good, authorization: undefined },
      { ...good, authorization: "Basic abc" },
      { ...good, authorization: "Bearer wrong" },
      { ...good, authorization: "Bearer " },
    ];
    for (const headers of cases) {
      const res = await put(server, "/events-batch", record, headers);
      expectProblem(res, 401);
      expect(res.text).not.toContain("wrong");
      expect(res.text).not.toContain("nope");
    }
    expect(server.store.count("testdb", "Event")).toBe(0);
  });

  it("lets tests expire tokens through validateToken", async () => {
    expect((await put(server, "/events-batch", record, good)).status).toBe(207);
    tokenValid = false;
    const res = await put(server, "/events-batch", record, good);
    expectProblem(res, 401);
    expect(res.json.detail).toMatch(/expired|invalid/);
  });

  it("answers 403 without a User-Agent", async () => {
    expectProblem(await put(server, "/events-batch", record, { ...good, "user-agent": "" }), 403);
    // and with no header at all (node:http sends none unless told)
    const status = await new Promise<number>((resolve, reject) => {
      const url = new URL(`${server.url}/events-batch`);
      const req = request(
        {
          host: url.hostname,
          port: url.port,
          path: url.pathname,
          method: "PUT",
          headers: { ...good, "vbasoftware-database": "x", "content-type": "application/json" },
        },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on("error", reject);
      req.end(JSON.stringify(record));
    });
    expect(status).toBe(403);
  });

  it("answers 400 without vbasoftware-database", async () => {
    const res = await put(server, "/events-batch", record, {
      ...good,
      "vbasoftware-database": undefined,
    });
    expectProblem(res, 400);
    expect(res.json.detail).toContain("vbasoftware-database");
  });

  it("answers 404 for unknown paths and 405 with Allow for wrong methods", async () => {
    expectProblem(await put(server, "/nope-batch", record, good), 404);
    expectProblem(await put(server, "/provider-credentialing/1/other", record, good), 404);
    const res = await fetch(`${server.url}/events-batch`, { method: "POST", headers: good });
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toBe("PUT");
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    const get = await fetch(`${server.url}/tolerances-batch?x=1`);
    expect(get.status).toBe(405);
    expect(server.stats.byStatus).toMatchObject({ "404": 2, "405": 2 });
  });
});

describe("rate limit", () => {
  it("answers 429 with Retry-After past the burst, and recovers", async () => {
    const server = await startMockServer({ rateLimit: { requestsPerSecond: 2, burst: 4 } });
    try {
      const statuses: number[] = [];
      let retryAfter: string | null = null;
      for (let i = 0; i < 10; i++) {
        const res = await put(server, "/events-batch", record);
        statuses.push(res.status);
        if (res.status === 429) {
          retryAfter = res.headers.get("retry-after");
          expect(res.contentType).toBe("application/problem+json");
        }
      }
      const ok = statuses.filter((s) => s === 207).length;
      // 4 from the burst, maybe one more refilled while the requests ran.
      expect(ok).toBeGreaterThanOrEqual(4);
      expect(ok).toBeLessThanOrEqual(6);
      expect(statuses.slice(0, 4)).toEqual([207, 207, 207, 207]);
      expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
      expect(server.stats.rateLimited).toBe(10 - ok);
      expect(server.stats.byStatus["429"]).toBe(10 - ok);
      await new Promise((r) => setTimeout(r, 600));
      expect((await put(server, "/events-batch", record)).status).toBe(207);
      server.setRateLimit(false);
      expect(server.rateLimit).toBe(false);
      const all = await Promise.all(
        Array.from({ length: 30 }, () => put(server, "/events-batch", record)),
      );
      expect(all.every((r) => r.status === 207)).toBe(true);
    } finally {
      await server.close();
    }
  });

  it("gives every API key its own bucket and its own counters", async () => {
    const server = await startMockServer({
      apiKeys: ["key-alpha", "key-beta"],
      rateLimit: { requestsPerSecond: 1, burst: 4 },
    });
    try {
      const as = (key: string) => ({ "x-api-key": key });
      const alpha: number[] = [];
      for (let i = 0; i < 7; i++) {
        alpha.push((await put(server, "/events-batch", record, as("key-alpha"))).status);
      }
      expect(alpha.slice(0, 4)).toEqual([207, 207, 207, 207]);
      const alphaLimited = alpha.filter((s) => s === 429).length;
      expect(alphaLimited).toBeGreaterThanOrEqual(2);
      // alpha's bucket is empty; beta's is untouched and holds its whole burst
      const beta = await Promise.all(
        Array.from({ length: 4 }, () => put(server, "/events-batch", record, as("key-beta"))),
      );
      expect(beta.map((r) => r.status)).toEqual([207, 207, 207, 207]);
      expect((await put(server, "/events-batch", record, as("key-alpha"))).status).toBe(429);
      const stats = server.stats;
      expect(stats.byApiKey).toEqual({
        [apiKeyId("key-alpha")]: { requests: 8, rateLimited: alphaLimited + 1 },
        [apiKeyId("key-beta")]: { requests: 4, rateLimited: 0 },
      });
      expect(stats.rateLimited).toBe(alphaLimited + 1);
      // an unknown key is refused before any bucket and counted nowhere per key
      expect((await put(server, "/events-batch", record, as("key-gamma"))).status).toBe(401);
      const remote = await admin(server, "GET", "/stats");
      expect(remote.json.byApiKey).toEqual(server.stats.byApiKey);
      const text = JSON.stringify(remote.json);
      for (const key of ["key-alpha", "key-beta", "key-gamma"]) expect(text).not.toContain(key);
      server.reset();
      expect(server.stats.byApiKey[apiKeyId("key-alpha")]).toEqual({ requests: 0, rateLimited: 0 });
      expect((await put(server, "/events-batch", record, as("key-alpha"))).status).toBe(207);
    } finally {
      await server.close();
    }
  });

  it("defaults to VBA's 25 requests/s with bursts of 50", async () => {
    const server = await startMockServer();
    try {
      expect(server.rateLimit).toEqual({ requestsPerSecond: 25, burst: 50 });
      const all = await Promise.all(
        Array.from({ length: 100 }, () => put(server, "/events-batch", [])),
      );
      const ok = all.filter((r) => r.status === 207).length;
      expect(ok).toBeGreaterThanOrEqual(50);
      expect(ok).toBeLessThan(100);
      expect(all.filter((r) => r.status === 429).length).toBe(100 - ok);
    } finally {
      await server.close();
    }
  });
});
