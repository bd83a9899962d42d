import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type MockServer, startMockServer } from "../src/index.ts";
import { concretePath, put, spec, specRoutes } from "./helpers.ts";

let server: MockServer;
beforeAll(async () => {
  server = await startMockServer({ rateLimit: false });
});
afterAll(() => server.close());
beforeEach(() => server.reset());

describe("routes come from the spec", () => {
  it("serves one PUT route per spec operation with the spec's key fields", () => {
    const fromSpec = specRoutes();
    expect(server.routes.map((r) => r.path).sort()).toEqual(fromSpec.map((r) => r.template).sort());
    for (const route of server.routes) {
      expect(route.method).toBe("PUT");
      expect(route.keyFields).toEqual(spec.components.schemas[route.entity]?.["x-vbapi-key"]);
    }
  });

  for (const { template, entity, example } of specRoutes()) {
    it(`creates then updates the spec example of ${entity}`, async () => {
      const path = concretePath(template, example);
      const keyFields = spec.components.schemas[entity]?.["x-vbapi-key"] as string[];
      const first = await put(server, path, example);
      expect(first.status).toBe(207);
      expect(first.json.data).toHaveLength(example.length);
      first.json.data.forEach((item: { id: unknown; status: number; body: string }, i: number) => {
        expect(item.status).toBe(201);
        expect(item.body).toBe("Created");
        expect(item.id).toEqual(keyFields.map((key) => ({ key, value: example[i]?.[key] })));
      });
      const second = await put(server, path, example);
      expect(second.json.data.map((d: { status: number }) => d.status)).toEqual(
        example.map(() => 200),
      );
      expect(second.json.data.map((d: { body: string }) => d.body)).toEqual(
        example.map(() => "Updated"),
      );
      const stored = server.store.list("testdb", entity);
      expect(stored.map((r) => r.body)).toEqual(example);
      expect(stored.map((r) => r.writes)).toEqual(example.map(() => 2));
      expect(server.store.count("testdb", entity)).toBe(example.length);
      expect(server.store.totalWrites("testdb", entity)).toBe(example.length * 2);
    });
  }
});

describe("upsert semantics", () => {
  it("answers in input order, applies repeated keys in order, keeps the last body", async () => {
    const batch = [
      { tolerance_Key: 3, tolerance1: 1 },
      { tolerance_Key: 1, tolerance1: 2 },
      { tolerance_Key: 3, tolerance1: 9.5, group_ID: "G" },
    ];
    const res = await put(server, "/tolerances-batch", batch);
    expect(res.json.data.map((d: { id: Array<{ value: unknown }> }) => d.id[0]?.value)).toEqual([
      3, 1, 3,
    ]);
    expect(res.json.data.map((d: { status: number }) => d.status)).toEqual([201, 201, 200]);
    const list = server.store.list("testdb", "Tolerance");
    expect(list.map((r) => r.id[0]?.value)).toEqual([3, 1]); // insertion order
    expect(server.store.get("testdb", "Tolerance", { tolerance_Key: 3 })?.body).toEqual(batch[2]);
    expect(server.store.get("testdb", "Tolerance", [3])?.writes).toBe(2);
    expect(res.json.error).toBeUndefined();
  });

  it("keeps databases apart", async () => {
    await put(server, "/tolerances-batch", [{ tolerance_Key: 1, tolerance1: 1 }], {
      "vbasoftware-database": "a",
    });
    const res = await put(server, "/tolerances-batch", [{ tolerance_Key: 1, tolerance1: 2 }], {
      "vbasoftware-database": "b",
    });
    expect(res.json.data[0].status).toBe(201);
    expect(server.store.count("a", "Tolerance")).toBe(1);
    expect(server.store.get("b", "Tolerance", [1])?.body.tolerance1).toBe(2);
    expect(server.store.databases().sort()).toEqual(["a", "b"]);
    expect(server.store.count("testdb", "Tolerance")).toBe(0);
  });

  it("gives each request a fresh debug.activityID", async () => {
    const ids = new Set<string>();
    for (let i = 0; i < 5; i++) {
      const res = await put(server, "/events-batch", []);
      expect(res.status).toBe(207);
      expect(res.json.data).toEqual([]);
      expect(typeof res.json.debug.activityID).toBe("string");
      expect(res.json.debug.activityID.length).toBeGreaterThan(0);
      ids.add(res.json.debug.activityID);
    }
    expect(ids.size).toBe(5);
  });

  it("scopes ProviderCredService records to the path's providerCredKey", async () => {
    const res = await put(server, "/provider-credentialing/5021/services-batch", [
      { providerCred_Key: 5021, credService_Key: 1, percentage: 10 },
      { providerCred_Key: 7, credService_Key: 2 },
      { providerCred_Key: 5021, credService_Key: 3 },
    ]);
    expect(res.status).toBe(207);
    const statuses = res.json.data.map((d: { status: number }) => d.status);
    expect(statuses).toEqual([201, 400, 201]);
    expect(res.json.data[1].body).toMatch(/providerCred_Key.*providerCredKey/);
    expect(res.json.data[1].id).toEqual([
      { key: "providerCred_Key", value: 7 },
      { key: "credService_Key", value: 2 },
    ]);
    expect(res.json.error.detail).toMatch(/1 of 3/);
    const stored = server.store.list("testdb", "ProviderCredService");
    expect(stored.map((r) => r.id.map((kv) => kv.value))).toEqual([
      [5021, 1],
      [5021, 3],
    ]);
    // Same credService_Key under another process is a different record.
    const other = await put(server, "/provider-credentialing/9/services-batch", [
      { providerCred_Key: 9, credService_Key: 1 },
    ]);
    expect(other.json.data[0].status).toBe(201);
    expect(server.stats.records).toMatchObject({ created: 3, failed: 1 });
  });
});

describe("207 media type", () => {
  const batch = [{ armorCodeExCode_Key: 1, armor_Code: "A", ex_Code: "E" }];
  it("is text/plain by default, with a JSON body", async () => {
    const res = await put(server, "/armor-code-ex-codes-batch", batch);
    expect(res.contentType).toMatch(/^text\/plain/);
    expect(res.json.data[0].status).toBe(201);
  });
  it("is application/json or text/json when asked for", async () => {
    const a = await put(server, "/armor-code-ex-codes-batch", batch, {
      accept: "application/json",
    });
    expect(a.contentType).toMatch(/^application\/json/);
    const t = await put(server, "/armor-code-ex-codes-batch", batch, { accept: "text/json" });
    expect(t.contentType).toMatch(/^text\/json/);
    expect(t.json.data[0].status).toBe(200);
  });
  it("accepts text/json and application/*+json request bodies, refuses others with 415", async () => {
    expect(
      (await put(server, "/armor-code-ex-codes-batch", batch, { "content-type": "text/json" }))
        .status,
    ).toBe(207);
    expect(
      (
        await put(server, "/armor-code-ex-codes-batch", batch, {
          "content-type": "application/vnd.x+json",
        })
      ).status,
    ).toBe(207);
    const bad = await put(server, "/armor-code-ex-codes-batch", batch, {
      "content-type": "text/csv",
    });
    expect(bad.status).toBe(415);
    expect(bad.contentType).toBe("application/problem+json");
  });
});

describe("inspection", () => {
  it("counts requests and statuses and resets", async () => {
    await put(server, "/tolerances-batch", [{ tolerance_Key: 1, tolerance1: 1 }]);
    await put(server, "/tolerances-batch", "nope");
    const stats = server.stats;
    expect(stats.requests).toBe(2);
    expect(stats.byStatus).toEqual({ "207": 1, "400": 1 });
    server.reset();
    expect(server.stats.requests).toBe(0);
    expect(server.store.count("testdb", "Tolerance")).toBe(0);
  });
});
