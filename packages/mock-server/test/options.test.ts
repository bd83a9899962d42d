import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";
import { type RequestLogEntry, startMockServer } from "../src/index.ts";
import { put, specRoutes } from "./helpers.ts";

const SECRET = "MEMBER-SSN-123-45-6789";

describe("options", () => {
  it("serves under basePath and includes it in url", async () => {
    const server = await startMockServer({ rateLimit: false, basePath: "/vbasoftware" });
    try {
      expect(server.url).toMatch(/\/vbasoftware$/);
      expect((await put(server, "/tolerances-batch", [])).status).toBe(207);
      const outside = await fetch(server.url.replace("/vbasoftware", "/tolerances-batch"), {
        method: "PUT",
      });
      expect(outside.status).toBe(404);
      const adminRes = await fetch(`${server.url}/__admin/stats`, {
        headers: server.credentials.adminHeaders,
      });
      expect(adminRes.status).toBe(200);
    } finally {
      await server.close();
    }
  });

  it("logs one entry per answer without record contents or credentials", async () => {
    const entries: RequestLogEntry[] = [];
    const server = await startMockServer({
      rateLimit: false,
      apiKeys: "key-abc",
      tokens: "tok-xyz",
      log: (e) => entries.push(e),
    });
    try {
      await put(server, "/events-batch", [
        {
          event_ID: 1,
          claim_Audit_Event: true,
          process_Automation_Event: false,
          reminder: false,
          subject: SECRET,
        },
      ]);
      await put(server, "/events-batch", [{ event_ID: SECRET }]);
      await put(server, "/events-batch", [], { "x-api-key": "wrong-key" });
      await new Promise((r) => setTimeout(r, 50));
      expect(entries.map((e) => e.status)).toEqual([207, 400, 401]);
      expect(entries[0]).toMatchObject({
        method: "PUT",
        path: "/events-batch",
        entity: "Event",
        records: 1,
      });
      const text = JSON.stringify(entries);
      for (const secret of [SECRET, "key-abc", "tok-xyz", "wrong-key"])
        expect(text).not.toContain(secret);
    } finally {
      await server.close();
    }
  });

  it("accepts async token validators and treats a throwing one as a refusal", async () => {
    let mode: "ok" | "async-no" | "throw" = "ok";
    const server = await startMockServer({
      rateLimit: false,
      validateToken: (t) => {
        if (mode === "throw") throw new Error("boom");
        return Promise.resolve(mode === "ok" && t === "good");
      },
    });
    try {
      const auth = { authorization: "Bearer good" };
      expect((await put(server, "/tolerances-batch", [], auth)).status).toBe(207);
      mode = "async-no";
      expect((await put(server, "/tolerances-batch", [], auth)).status).toBe(401);
      mode = "throw";
      expect((await put(server, "/tolerances-batch", [], auth)).status).toBe(401);
    } finally {
      await server.close();
    }
  });

  it("loads a spec from a file path and rejects bad options", async () => {
    const file = createRequire(import.meta.url).resolve("@vbapi-sdk/openapi/openapi.json");
    const server = await startMockServer({ spec: file, rateLimit: false });
    try {
      expect(server.routes.length).toBe(specRoutes().length);
    } finally {
      await server.close();
    }
    await expect(startMockServer({ apiKeys: [] })).rejects.toThrow(TypeError);
    await expect(startMockServer({ maxBodyBytes: 0 })).rejects.toThrow(RangeError);
    await expect(startMockServer({ rateLimit: { requestsPerSecond: 0 } })).rejects.toThrow(
      RangeError,
    );
  });
});
