import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";
import { findBatchOperations, type JsonObject } from "../src/index.ts";

const bundleFile = createRequire(import.meta.url).resolve("@vbapi-sdk/openapi/openapi.json");
const bundle = (): JsonObject => JSON.parse(readFileSync(bundleFile, "utf8"));

/** A one-operation document; `widget` is the entity schema. */
function spec(widget: Record<string, unknown>, operation: Record<string, unknown> = {}) {
  return {
    openapi: "3.1.0",
    paths: {
      "/owners/{ownerKey}/widgets-batch": {
        parameters: [{ name: "ownerKey", in: "path", required: true, schema: { type: "string" } }],
        put: {
          operationId: "updateBatchWidget",
          parameters: [
            { $ref: "#/components/parameters/db" },
            {
              name: "ownerKey",
              in: "path",
              required: true,
              "x-vbapi-record-field": "owner_Key",
              schema: { type: "integer" },
            },
          ],
          requestBody: { $ref: "#/components/requestBodies/Widgets" },
          responses: { "200": { description: "ok" } },
          ...operation,
        },
      },
    },
    components: {
      parameters: { db: { name: "db", in: "header", required: true, schema: { type: "string" } } },
      requestBodies: {
        Widgets: {
          content: {
            "application/json": {
              schema: { type: "array", items: { $ref: "#/components/schemas/Widget" } },
            },
          },
        },
      },
      schemas: { Widget: widget },
    },
  } as unknown as JsonObject;
}
const widget = () => ({
  type: "object",
  "x-vbapi-key": ["owner_Key", "widget_Key"],
  required: ["owner_Key", "widget_Key"],
  properties: { owner_Key: { type: "integer" }, widget_Key: { type: "integer" } },
});

describe("findBatchOperations", () => {
  it("finds the five batch operations of the bundled spec", () => {
    const ops = findBatchOperations(bundle());
    expect(ops.map((o) => `${o.entity} ${o.method} ${o.path}`)).toEqual([
      "ArmorCodeExCode put /armor-code-ex-codes-batch",
      "ClaimPromptPay put /claim-prompt-pays-batch",
      "Event put /events-batch",
      "ProviderCredService put /provider-credentialing/{providerCredKey}/services-batch",
      "Tolerance put /tolerances-batch",
    ]);
    const pcs = ops.find((o) => o.entity === "ProviderCredService");
    expect(pcs?.pathParams.map((p) => p.name)).toEqual(["providerCredKey"]);
    expect(pcs?.recordFieldForPathParam).toEqual({ providerCredKey: "providerCred_Key" });
    expect(pcs?.parameters.map((p) => `${p.in} ${p.name}`)).toEqual([
      "header vbasoftware-database",
      "path providerCredKey",
    ]);
  });

  it("ignores operations that are not batch upserts (a login, a GET, other bodies)", () => {
    const doc = bundle() as { paths: Record<string, unknown> };
    doc.paths["/user-authentication"] = {
      post: {
        operationId: "login",
        parameters: [{ name: "vbasoftware-client-id", in: "header", schema: { type: "string" } }],
        requestBody: {
          content: { "application/json": { schema: { type: "object", properties: {} } } },
        },
        responses: { "200": { description: "ok" } },
      },
      get: { responses: { "200": { description: "no operationId, no body" } } },
    };
    doc.paths["/user-refresh-tokens"] = {
      post: {
        requestBody: {
          content: { "application/json": { schema: { type: "array", items: { type: "string" } } } },
        },
        responses: { "200": { description: "an array, but not of references" } },
      },
      put: {
        requestBody: {
          content: {
            "text/plain": {
              schema: { type: "array", items: { $ref: "#/components/schemas/Tolerance" } },
            },
          },
        },
        responses: { "200": { description: "not JSON" } },
      },
    };
    expect(findBatchOperations(doc as JsonObject).map((o) => o.entity)).toEqual([
      "ArmorCodeExCode",
      "ClaimPromptPay",
      "Event",
      "ProviderCredService",
      "Tolerance",
    ]);
  });

  it("resolves referenced bodies and parameters; the operation's parameters win", () => {
    const [op] = findBatchOperations(spec(widget()));
    expect(op).toMatchObject({
      entity: "Widget",
      operationId: "updateBatchWidget",
      keys: ["owner_Key", "widget_Key"],
      recordFieldForPathParam: { ownerKey: "owner_Key" },
      bodySchema: { type: "array" },
    });
    expect(op?.parameters.map((p) => `${p.in} ${p.name} ${p.recordField}`)).toEqual([
      "path ownerKey owner_Key",
      "header db undefined",
    ]);
    expect(op?.pathParams[0]?.object.schema).toEqual({ type: "integer" });
  });

  it.each([
    [
      "no x-vbapi-key",
      () => spec({ ...widget(), "x-vbapi-key": undefined }),
      /Widget needs a non-empty string array x-vbapi-key/,
    ],
    [
      "a key that is not required",
      () => spec({ ...widget(), required: ["owner_Key"] }),
      /key field widget_Key must be required/,
    ],
    [
      "a key that is not a property",
      () => spec({ ...widget(), "x-vbapi-key": ["nope"] }),
      /key field nope is not a property/,
    ],
    [
      "no operationId",
      () => spec(widget(), { operationId: undefined }),
      /PUT \/owners\/\{ownerKey\}\/widgets-batch has no operationId/,
    ],
    ["an undeclared path parameter", () => spec(widget(), { parameters: [] }), undefined],
    [
      "items referring outside the schemas",
      () =>
        spec(widget(), {
          requestBody: {
            content: {
              "application/json": {
                schema: { type: "array", items: { $ref: "#/components/parameters/db" } },
              },
            },
          },
        }),
      /must \$ref a component schema, got #\/components\/parameters\/db/,
    ],
  ])("fails clearly on a batch operation with %s", (_, make, message) => {
    if (message) expect(() => findBatchOperations(make())).toThrow(message);
    else {
      // The path item still declares ownerKey: only dropping both makes it undeclared.
      const doc = make() as { paths: Record<string, { parameters?: unknown }> };
      delete doc.paths["/owners/{ownerKey}/widgets-batch"]?.parameters;
      expect(() => findBatchOperations(doc as JsonObject)).toThrow(
        "/owners/{ownerKey}/widgets-batch: path parameter ownerKey is not declared",
      );
    }
  });

  it("fails on an entity name that is not an identifier, naming the operation", () => {
    // Plural and type name set, so only the entity name itself is wrong.
    const doc = spec({
      ...widget(),
      "x-vbapi-plural": "ProviderDots",
      "x-vbapi-type-name": "ProviderDot",
    }) as unknown as {
      components: { schemas: Record<string, unknown>; requestBodies: Record<string, unknown> };
    };
    doc.components.schemas["Provider.Dot"] = doc.components.schemas.Widget;
    delete doc.components.schemas.Widget;
    doc.components.requestBodies.Widgets = {
      content: {
        "application/json": {
          schema: { type: "array", items: { $ref: "#/components/schemas/Provider.Dot" } },
        },
      },
    };
    expect(() => findBatchOperations(doc as unknown as JsonObject)).toThrow(
      'operation updateBatchWidget (PUT /owners/{ownerKey}/widgets-batch): the entity schema name "Provider.Dot" is not an identifier',
    );
  });

  it.each(["owner-key", "owner.key", "1owner"])(
    "fails on the path parameter %s, which is not an identifier, naming the operation",
    (name) => {
      const doc = spec(widget()) as unknown as {
        paths: Record<string, { parameters: { name: string }[]; put: { parameters: unknown[] } }>;
      };
      const item = doc.paths["/owners/{ownerKey}/widgets-batch"];
      if (!item) throw new Error("no path item");
      delete doc.paths["/owners/{ownerKey}/widgets-batch"];
      item.parameters = [];
      item.put.parameters = [{ name, in: "path", required: true, schema: { type: "integer" } }];
      doc.paths[`/owners/{${name}}/widgets-batch`] = item;
      expect(() => findBatchOperations(doc as unknown as JsonObject)).toThrow(
        `operation updateBatchWidget (PUT /owners/{${name}}/widgets-batch): path parameter "${name}" is not an identifier`,
      );
    },
  );

  it("fails when one entity is the body of two operations, naming both", () => {
    const doc = spec(widget()) as { paths: Record<string, Record<string, unknown>> };
    const item = doc.paths["/owners/{ownerKey}/widgets-batch"] as Record<string, unknown>;
    item.post = item.put;
    expect(() => findBatchOperations(doc as JsonObject)).toThrow(
      "schema Widget is the body of more than one batch operation (PUT /owners/{ownerKey}/widgets-batch, POST /owners/{ownerKey}/widgets-batch)",
    );
  });

  it("fails on a document without paths", () => {
    expect(() => findBatchOperations({ openapi: "3.1.0" })).toThrow("the document has no paths");
  });
});
