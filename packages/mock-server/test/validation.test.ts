import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type MockServer, startMockServer } from "../src/index.ts";
import { put, spec } from "./helpers.ts";

let server: MockServer;
beforeAll(async () => {
  server = await startMockServer({ rateLimit: false, maxBodyBytes: 64 * 1024 });
});
afterAll(() => server.close());
beforeEach(() => server.reset());

const SECRET = "PATIENT-SECRET-93e1";

function expect400(res: { status: number; contentType: string | null; text: string }) {
  expect(res.status).toBe(400);
  expect(res.contentType).toBe("application/problem+json");
  expect(res.text).not.toContain(SECRET);
}

describe("request validation against the spec's schemas", () => {
  it("rejects malformed JSON and empty bodies", async () => {
    for (const body of [
      `[{"tolerance_Key": 1, "x": "${SECRET}"`,
      "",
      "   ",
      "[1,]",
      `"${SECRET}`,
    ]) {
      const res = await put(server, "/tolerances-batch", body);
      expect400(res);
    }
  });

  it("rejects a body that is not an array", async () => {
    for (const body of [{ tolerance_Key: 1, tolerance1: 1 }, "text", 3, null, true]) {
      const res = await put(server, "/tolerances-batch", JSON.stringify(body));
      expect400(res);
      expect(res.json.detail).toMatch(/^body: must be array/);
    }
  });

  it("names record index and field for wrong types, never the value", async () => {
    const batch = [
      { tolerance_Key: 1, tolerance1: 1 },
      { tolerance_Key: 2, tolerance1: 1 },
      { tolerance_Key: 3, tolerance1: 1 },
      { tolerance_Key: 4, tolerance1: SECRET },
    ];
    const res = await put(server, "/tolerances-batch", batch);
    expect400(res);
    expect(res.json.detail).toBe("record 3, field /tolerance1: must be number");
    expect(res.json.errors).toEqual([
      { record: 3, field: "/tolerance1", message: "must be number" },
    ]);
    expect(server.store.count("testdb", "Tolerance")).toBe(0); // nothing applied
  });

  it("enforces maxLength from the spec", async () => {
    const max = spec.components.schemas.Event?.properties.subject?.maxLength as number;
    expect(max).toBeGreaterThan(0);
    const base = {
      event_ID: 1,
      claim_Audit_Event: true,
      process_Automation_Event: false,
      reminder: false,
    };
    expect(
      (await put(server, "/events-batch", [{ ...base, subject: "s".repeat(max) }])).status,
    ).toBe(207);
    const res = await put(server, "/events-batch", [
      { ...base, subject: `${SECRET}${"s".repeat(max)}` },
    ]);
    expect400(res);
    expect(res.json.detail).toContain("record 0, field /subject: must NOT have more than");
  });

  it("rejects unknown fields and missing required fields", async () => {
    const res = await put(server, "/armor-code-ex-codes-batch", [
      { armorCodeExCode_Key: 1, armor_Code: "A", ex_Code: "E", surprise: SECRET },
      { armorCodeExCode_Key: 2, armor_Code: "A" },
    ]);
    expect400(res);
    expect(res.json.errors).toEqual([
      { record: 0, field: "/surprise", message: "is not a known field" },
      { record: 1, field: "/ex_Code", message: "is required" },
    ]);
  });

  it("range-checks int32 and checks date-time", async () => {
    for (const key of [2 ** 31, -(2 ** 31) - 1, 1.5]) {
      const res = await put(server, "/tolerances-batch", [{ tolerance_Key: key, tolerance1: 1 }]);
      expect400(res);
      expect(res.json.errors[0]).toMatchObject({ record: 0, field: "/tolerance_Key" });
    }
    for (const key of [2 ** 31 - 1, -(2 ** 31)]) {
      expect(
        (await put(server, "/tolerances-batch", [{ tolerance_Key: key, tolerance1: 1 }])).status,
      ).toBe(207);
    }
    const res = await put(server, "/tolerances-batch", [
      { tolerance_Key: 1, tolerance1: 1, entry_Date: "yesterday" },
    ]);
    expect400(res);
    expect(res.json.detail).toContain("field /entry_Date");
    const ok = await put(server, "/tolerances-batch", [
      { tolerance_Key: 1, tolerance1: 1, entry_Date: "2026-01-05T08:30:00Z" },
    ]);
    expect(ok.status).toBe(207);
  });

  it("lists every error up to a cap", async () => {
    const batch = Array.from({ length: 100 }, (_, i) => ({ tolerance_Key: i, tolerance1: "x" }));
    const res = await put(server, "/tolerances-batch", batch);
    expect400(res);
    expect(res.json.errors).toHaveLength(20);
    expect(res.json.errors[19]).toEqual({
      record: 19,
      field: "/tolerance1",
      message: "must be number",
    });
    expect(res.json.detail).toMatch(/and 80 more$/);
  });

  it("validates the providerCredKey path parameter with its spec schema", async () => {
    for (const key of ["abc", "99999999999", "1.5"]) {
      const res = await put(server, `/provider-credentialing/${key}/services-batch`, []);
      expect400(res);
      expect(res.json.detail).toMatch(/^path parameter providerCredKey: /);
    }
  });

  it("answers 413 for an announced or streamed body past the limit, and stays usable", async () => {
    const big = JSON.stringify(
      Array.from({ length: 3000 }, (_, i) => ({ tolerance_Key: i, tolerance1: 1 })),
    );
    expect(big.length).toBeGreaterThan(64 * 1024);
    const res = await put(server, "/tolerances-batch", big);
    expect(res.status).toBe(413);
    expect(res.contentType).toBe("application/problem+json");
    // chunked: no content-length, the limit is found while reading
    const chunk = new TextEncoder().encode(" ".repeat(16 * 1024));
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent++ < 40) controller.enqueue(chunk);
        else controller.close();
      },
    });
    const streamed = await put(server, "/tolerances-batch", stream);
    expect(streamed.status).toBe(413);
    expect(streamed.json.status).toBe(413);
    expect(server.stats.byStatus["413"]).toBe(2);
    expect((await put(server, "/tolerances-batch", [])).status).toBe(207);
  });
});
