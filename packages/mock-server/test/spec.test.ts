// Custom specs: the routes and the login come from whatever document is passed, and a document
// the server cannot read is refused at start-up with an error naming what is wrong and where.
import { describe, expect, it } from "vitest";
import { type OpenApiDocument, type RouteSummary, startMockServer } from "../src/index.ts";
import { put, spec, specRoutes } from "./helpers.ts";

type Doc = OpenApiDocument & { components: { schemas: Record<string, Record<string, unknown>> } };

/** A deep copy of the bundled spec, changed by `edit`. */
function specWith(edit: (doc: Doc) => void): Doc {
  const doc = structuredClone(spec) as unknown as Doc;
  edit(doc);
  return doc;
}

/** Points the items of the tolerance batch body at another reference. */
function toleranceItemsRef(doc: Doc, ref: string): void {
  const body = doc.paths["/tolerances-batch"]?.put as {
    requestBody: { content: { "application/json": { schema: { items: { $ref: string } } } } };
  };
  body.requestBody.content["application/json"].schema.items.$ref = ref;
}

describe("a custom spec", () => {
  it("serves only its own batch routes and finds its login by the Basic requirement", async () => {
    const doc = specWith((d) => {
      for (const path of Object.keys(d.paths))
        if (path !== "/tolerances-batch" && path !== "/user-authentication") delete d.paths[path];
    });
    const user = { username: "u", password: "pw-1x", clientId: "c", clientCode: "C" };
    const server = await startMockServer({ spec: doc, rateLimit: false, users: [user] });
    try {
      expect(server.routes.map((r) => `${r.method} ${r.path} ${r.entity}`)).toEqual([
        "PUT /tolerances-batch Tolerance",
      ]);
      const res = await fetch(`${server.url}/user-authentication`, {
        method: "POST",
        headers: {
          ...server.credentials.headers,
          authorization: `Basic ${Buffer.from("u:pw-1x").toString("base64")}`,
          "vbasoftware-database": "d",
          "vbasoftware-client-id": "c",
          "vbasoftware-client-code": "C",
        },
      });
      expect(res.status).toBe(200);
      const { data } = (await res.json()) as {
        data: { authenticationResult: { idToken: string } };
      };
      const bearer = { authorization: `Bearer ${data.authenticationResult.idToken}` };
      const record = [{ tolerance_Key: 1, tolerance1: 1 }];
      expect((await put(server, "/tolerances-batch", record, bearer)).status).toBe(207);
      expect((await put(server, "/events-batch", [], bearer)).status).toBe(404);
    } finally {
      await server.close();
    }
  });

  it("keeps its own routes beside servers of the bundled spec, whose compiled routes are shared", async () => {
    const doc = specWith((d) => {
      for (const path of Object.keys(d.paths))
        if (path !== "/tolerances-batch") delete d.paths[path];
    });
    // Bundled, custom, bundled again: the custom document's routes reach neither bundled server.
    const first = await startMockServer({ rateLimit: false });
    const custom = await startMockServer({ spec: doc, rateLimit: false });
    const second = await startMockServer({ rateLimit: false });
    try {
      const event = specRoutes().find((r) => r.entity === "Event")?.example;
      expect((await put(custom, "/events-batch", event)).status).toBe(404);
      for (const server of [first, second]) {
        expect(server.routes).toHaveLength(5);
        expect((await put(server, "/events-batch", event)).status).toBe(207);
      }
      // Compiled once for the process (a start no longer pays Ajv's compilation), so what a
      // server hands out of it is frozen: no server can change another's routes or record keys.
      expect(second.routes).toBe(first.routes);
      expect(custom.routes).not.toBe(first.routes);
      // The caller's document is left as it was: only the server's own copies are frozen.
      const keys = doc.components.schemas.Tolerance?.["x-vbapi-key"] as string[];
      expect(keys).toEqual(["tolerance_Key"]);
      expect(Object.isFrozen(keys)).toBe(false);
      expect(Object.isFrozen(custom.routes[0]?.keyFields)).toBe(true);
      const tolerances = first.routes.find((r) => r.entity === "Tolerance") as RouteSummary;
      expect(tolerances.keyFields).toEqual(["tolerance_Key"]);
      expect(() => (first.routes as RouteSummary[]).pop()).toThrow(TypeError);
      expect(() => (tolerances.keyFields as string[]).push("tolerance1")).toThrow(TypeError);
      expect(() => {
        (tolerances as { path: string }).path = "/elsewhere";
      }).toThrow(TypeError);
      const sameKey = [
        { tolerance_Key: 9, tolerance1: 1 },
        { tolerance_Key: 9, tolerance1: 2 },
      ];
      expect((await put(second, "/tolerances-batch", sameKey)).status).toBe(207);
      expect(second.store.list("testdb", "Tolerance")).toHaveLength(1);
      second.reset();
      // One server's invalid body and another's valid one, at once: each gets its own answer.
      const [bad, good] = await Promise.all([
        put(first, "/tolerances-batch", [{ tolerance_Key: "x" }]),
        put(second, "/tolerances-batch", [{ tolerance_Key: 2, tolerance1: 1 }]),
      ]);
      expect(bad.status).toBe(400);
      expect(bad.text).toContain("tolerance_Key");
      expect(good.status).toBe(207);
      expect(second.store.list("testdb", "Tolerance")).toHaveLength(1);
      expect(first.store.list("testdb", "Tolerance")).toHaveLength(0);
    } finally {
      await Promise.all([first.close(), custom.close(), second.close()]);
    }
  });

  it("refuses a batch entity without x-vbapi-key, naming the schema", async () => {
    const doc = specWith((d) => {
      delete d.components.schemas.Tolerance?.["x-vbapi-key"];
    });
    await expect(startMockServer({ spec: doc })).rejects.toThrow(
      "schema Tolerance needs a non-empty string array x-vbapi-key",
    );
  });

  it("refuses a $ref to nothing, naming the reference", async () => {
    const doc = specWith((d) => toleranceItemsRef(d, "#/components/schemas/Nowhere"));
    await expect(startMockServer({ spec: doc })).rejects.toThrow(
      "unresolved $ref #/components/schemas/Nowhere",
    );
  });

  it("refuses a $ref cycle, naming the chain", async () => {
    const doc = specWith((d) => {
      d.components.schemas.LoopA = { $ref: "#/components/schemas/LoopB" };
      d.components.schemas.LoopB = { $ref: "#/components/schemas/LoopA" };
      toleranceItemsRef(d, "#/components/schemas/LoopA");
    });
    await expect(startMockServer({ spec: doc })).rejects.toThrow(
      "$ref cycle: #/components/schemas/LoopA → #/components/schemas/LoopB → #/components/schemas/LoopA",
    );
  });
});
