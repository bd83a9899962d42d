// Custom specs: the routes and the login come from whatever document is passed, and a document
// the server cannot read is refused at start-up with an error naming what is wrong and where.
import { describe, expect, it } from "vitest";
import { type OpenApiDocument, startMockServer } from "../src/index.ts";
import { put, spec } from "./helpers.ts";

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
