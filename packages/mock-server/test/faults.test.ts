import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type MockServer, startMockServer } from "../src/index.ts";
import { admin, put } from "./helpers.ts";

let server: MockServer;
beforeAll(async () => {
  server = await startMockServer({ rateLimit: false });
});
afterAll(() => server.close());
beforeEach(() => server.reset());

const tol = (key: number, value = 1) => ({ tolerance_Key: key, tolerance1: value });
const statuses = (res: { json: { data: Array<{ status: number }> } }) =>
  res.json.data.map((d) => d.status);
const keysOf = (res: { json: { data: Array<{ id: Array<{ value: unknown }> }> } }) =>
  res.json.data.map((d) => d.id[0]?.value);

describe("request faults (programmatic)", () => {
  it("failNext fails N requests with the status and Retry-After, applying nothing", async () => {
    const handle = server.faults.failNext(2, 503, { retryAfter: 3 });
    for (let i = 0; i < 2; i++) {
      const res = await put(server, "/tolerances-batch", [tol(1)]);
      expect(res.status).toBe(503);
      expect(res.headers.get("retry-after")).toBe("3");
      expect(res.contentType).toBe("application/problem+json");
    }
    expect(handle.fired).toBe(2);
    expect(handle.remaining).toBe(0);
    expect(server.store.count("testdb", "Tolerance")).toBe(0);
    const ok = await put(server, "/tolerances-batch", [tol(1)]);
    expect(ok.status).toBe(207);
    server.faults.failNext(1, 500);
    const noRetry = await put(server, "/tolerances-batch", [tol(1)]);
    expect(noRetry.status).toBe(500);
    expect(noRetry.headers.get("retry-after")).toBeNull();
    expect(server.stats.faultsInjected).toBe(3);
  });

  it("targets faults by path, template, entity and database", async () => {
    server.faults.failNext(5, 502, { target: { entity: "Event" } });
    server.faults.failNext(5, 504, {
      target: { path: "/provider-credentialing/{providerCredKey}/services-batch" },
    });
    server.faults.failNext(5, 500, { target: { database: "other" } });
    expect((await put(server, "/tolerances-batch", [tol(1)])).status).toBe(207);
    expect((await put(server, "/events-batch", [])).status).toBe(502);
    expect((await put(server, "/provider-credentialing/4/services-batch", [])).status).toBe(504);
    expect(
      (await put(server, "/tolerances-batch", [], { "vbasoftware-database": "other" })).status,
    ).toBe(500);
    expect(server.faults.list().map((f) => f.remaining)).toEqual([4, 4, 4]);
    server.faults.clear();
    expect(server.faults.list()).toEqual([]);
    expect((await put(server, "/events-batch", [])).status).toBe(207);
  });

  it("delays answers", async () => {
    const handle = server.faults.delay(500, { count: 1 });
    const started = performance.now();
    const res = await put(server, "/tolerances-batch", [tol(1)]);
    expect(res.status).toBe(207);
    expect(performance.now() - started).toBeGreaterThanOrEqual(480);
    expect(handle.remaining).toBe(0);
    const t2 = performance.now();
    await put(server, "/tolerances-batch", [tol(1)]);
    expect(performance.now() - t2).toBeLessThan(450);
  });

  it("resets the connection after applying (the ambiguous failure)", async () => {
    server.faults.resetConnection();
    await expect(put(server, "/tolerances-batch", [tol(1), tol(2)])).rejects.toThrow();
    expect(server.store.list("testdb", "Tolerance").map((r) => r.writes)).toEqual([1, 1]);
    // the client re-sends: idempotent repeat
    const again = await put(server, "/tolerances-batch", [tol(1), tol(2)]);
    expect(statuses(again)).toEqual([200, 200]);
    expect(server.stats.connectionsReset).toBe(1);
  });

  it("resets the connection before applying", async () => {
    server.faults.resetConnection({ phase: "before-apply" });
    await expect(put(server, "/tolerances-batch", [tol(1)])).rejects.toThrow();
    expect(server.store.count("testdb", "Tolerance")).toBe(0);
    expect(statuses(await put(server, "/tolerances-batch", [tol(1)]))).toEqual([201]);
  });

  it("answers a truncated or non-JSON 207 after applying", async () => {
    server.faults.badBody("truncated");
    const cut = await put(server, "/tolerances-batch", [tol(1), tol(2)]);
    expect(cut.status).toBe(207);
    expect(cut.json).toBeUndefined();
    expect(cut.text.startsWith('{"data":[')).toBe(true);
    server.faults.badBody("non-json");
    const html = await put(server, "/tolerances-batch", [tol(3)]);
    expect(html.status).toBe(207);
    expect(html.json).toBeUndefined();
    expect(server.store.count("testdb", "Tolerance")).toBe(3);
  });
});

describe("record faults (programmatic)", () => {
  it("fails records by key with a chosen status; they are not stored", async () => {
    const handle = server.faults.failRecords({
      keys: [{ tolerance_Key: 2 }],
      status: 429,
      count: 1,
    });
    const res = await put(server, "/tolerances-batch", [tol(1), tol(2), tol(3)]);
    expect(res.status).toBe(207);
    expect(statuses(res)).toEqual([201, 429, 201]);
    expect(res.json.data[1].body.length).toBeGreaterThan(0);
    expect(res.json.error.status).toBe(207);
    expect(server.store.get("testdb", "Tolerance", [2])).toBeUndefined();
    expect(handle.remaining).toBe(0);
    const retry = await put(server, "/tolerances-batch", [tol(2)]);
    expect(statuses(retry)).toEqual([201]);
  });

  it("fails records by predicate and omits them when asked", async () => {
    server.faults.failRecords({
      predicate: (r, i) => i === 0 || r.tolerance_Key === 4,
      omit: true,
      status: 500,
    });
    const res = await put(server, "/tolerances-batch", [tol(1), tol(2), tol(3), tol(4)]);
    expect(keysOf(res)).toEqual([2, 3]);
    expect(server.store.list("testdb", "Tolerance").map((r) => r.id[0]?.value)).toEqual([2, 3]);
    expect(server.stats.records).toMatchObject({ failed: 2, omitted: 2, created: 2 });
  });

  it("fails records by probability", async () => {
    let n = 0;
    const seq = await startMockServer({
      rateLimit: false,
      random: () => (n++ % 2 === 0 ? 0.1 : 0.9),
    });
    try {
      seq.faults.failRecords({ probability: 0.5, status: 503 });
      const res = await put(seq, "/tolerances-batch", [tol(1), tol(2), tol(3), tol(4)]);
      expect(statuses(res)).toEqual([503, 201, 503, 201]);
      expect(seq.store.count("testdb", "Tolerance")).toBe(2);
    } finally {
      await seq.close();
    }
  });

  it("omits stored records from the 207 data", async () => {
    server.faults.omitRecords({ keys: [{ tolerance_Key: 1 }] });
    const res = await put(server, "/tolerances-batch", [tol(1), tol(2)]);
    expect(keysOf(res)).toEqual([2]);
    expect(server.store.count("testdb", "Tolerance")).toBe(2);
  });

  it("rejects bad fault specs", () => {
    expect(() => server.faults.failNext(1, 99)).toThrow(RangeError);
    expect(() => server.faults.failRecords({ probability: 2 })).toThrow(RangeError);
    expect(() => server.faults.delay(-1)).toThrow(RangeError);
    expect(() => server.faults.failNext(0, 500)).toThrow(RangeError);
  });
});

describe("admin endpoint", () => {
  it("requires the admin token", async () => {
    const res = await fetch(`${server.url}/__admin/stats`);
    expect(res.status).toBe(401);
    const wrong = await fetch(`${server.url}/__admin/stats`, {
      headers: { "x-admin-token": "guess" },
    });
    expect(wrong.status).toBe(401);
    expect(await wrong.text()).not.toContain(server.credentials.adminToken as string);
    expect((await admin(server, "GET", "/stats")).status).toBe(200);
  });

  it("adds, lists and removes faults", async () => {
    const added = await admin(server, "POST", "/faults", [
      { type: "status", status: 503, retryAfter: 1, count: 1, target: { path: "/events-batch" } },
      { type: "fail-records", keys: [{ tolerance_Key: 2 }], status: 500 },
    ]);
    expect(added.status).toBe(201);
    expect(added.json.ids).toHaveLength(2);
    const ev = await put(server, "/events-batch", []);
    expect(ev.status).toBe(503);
    expect(ev.headers.get("retry-after")).toBe("1");
    const res = await put(server, "/tolerances-batch", [tol(1), tol(2)]);
    expect(statuses(res)).toEqual([201, 500]);
    const listed = await admin(server, "GET", "/faults");
    expect(
      (listed.json.faults as Array<{ type: string; fired: number }>).map((f) => [f.type, f.fired]),
    ).toEqual([["fail-records", 1]]);
    const id = (added.json.ids as string[])[1] as string;
    expect((await admin(server, "DELETE", `/faults/${id}`)).status).toBe(200);
    expect((await admin(server, "DELETE", `/faults/${id}`)).status).toBe(404);
    expect(statuses(await put(server, "/tolerances-batch", [tol(2)]))).toEqual([201]);
  });

  it("refuses bad fault specs with 400", async () => {
    for (const body of [
      { type: "nope" },
      { type: "status", status: 42 },
      { type: "delay" },
      "x",
      null,
    ]) {
      const res = await admin(server, "POST", "/faults", body);
      expect(res.status).toBe(400);
    }
    expect(server.faults.list()).toEqual([]);
  });

  it("supports reset-connection, delay and bad-body over HTTP, and clearing", async () => {
    await admin(server, "POST", "/faults", { type: "reset-connection", phase: "after-apply" });
    await expect(put(server, "/tolerances-batch", [tol(7)])).rejects.toThrow();
    expect(server.store.count("testdb", "Tolerance")).toBe(1);
    await admin(server, "POST", "/faults", { type: "bad-body", body: "non-json" });
    await admin(server, "POST", "/faults", { type: "delay", ms: 5000 });
    expect((await admin(server, "GET", "/faults")).json.faults).toHaveLength(2);
    expect((await admin(server, "DELETE", "/faults")).status).toBe(200);
    expect((await put(server, "/tolerances-batch", [tol(7)])).json.data[0].status).toBe(200);
  });

  it("reads back the store, stats and rate limit, and resets", async () => {
    await put(server, "/tolerances-batch", [tol(1, 1.5), tol(2), tol(1, 2.5)]);
    await put(server, "/events-batch", [], { "vbasoftware-database": "db2" });
    const overview = await admin(server, "GET", "/store");
    // an empty batch stores nothing, so db2 does not appear
    expect(overview.json).toEqual({ databases: { testdb: { Tolerance: 2 } } });
    const table = await admin(server, "GET", "/store/testdb/Tolerance");
    expect(table.json).toMatchObject({ count: 2, totalWrites: 3 });
    const records = table.json.records as Array<{ body: unknown; writes: number }>;
    expect(records.map((r) => [r.body, r.writes])).toEqual([
      [tol(1, 2.5), 2],
      [tol(2), 1],
    ]);
    expect((await admin(server, "GET", "/store/testdb/Nope")).status).toBe(404);
    const stats = await admin(server, "GET", "/stats");
    expect(stats.json).toMatchObject({ requests: 2, byStatus: { "207": 2 } });
    expect(
      (await admin(server, "PUT", "/rate-limit", { requestsPerSecond: 10, burst: 20 })).json,
    ).toEqual({
      rateLimit: { requestsPerSecond: 10, burst: 20 },
    });
    expect(server.rateLimit).toEqual({ requestsPerSecond: 10, burst: 20 });
    expect((await admin(server, "PUT", "/rate-limit", false)).json).toEqual({ rateLimit: false });
    expect((await admin(server, "POST", "/reset")).status).toBe(200);
    expect(server.store.databases()).toEqual([]);
    expect((await admin(server, "GET", "/nope")).status).toBe(404);
  });

  it("can be disabled", async () => {
    const closed = await startMockServer({ adminToken: false, rateLimit: false });
    try {
      const res = await fetch(`${closed.url}/__admin/stats`, { headers: { "x-admin-token": "" } });
      expect(res.status).toBe(404);
      expect(closed.credentials.adminToken).toBeNull();
    } finally {
      await closed.close();
    }
  });
});
