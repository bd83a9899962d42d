// The names codegen declares come from the spec (entity, x-vbapi-plural, x-vbapi-type-name, path
// parameters): a spec that would make the generated code declare a name twice, or a name that is
// not an identifier, is refused naming the operation; everything it accepts compiles.
import { describe, expect, it } from "vitest";
import { generateDomain, generateFromSpec } from "../src/index.ts";
import { typecheck } from "./compile.ts";

interface Op {
  entity: string;
  path: string;
  pkg?: string;
  /** Path parameters (integer unless a schema is given). */
  params?: { name: string; schema?: Record<string, unknown> }[];
  /** Extra members of the entity schema (x-vbapi-plural, x-vbapi-type-name, ...). */
  schema?: Record<string, unknown>;
  /** Key fields (default `<entity>_Key`). */
  keys?: string[];
}

/** A document with one batch operation per `Op`. */
function specOf(...ops: Op[]) {
  const paths: Record<string, unknown> = {};
  const schemas: Record<string, unknown> = {};
  for (const op of ops) {
    const keys = op.keys ?? [`${op.entity.replace(/\W/g, "")}_Key`];
    paths[op.path] = {
      put: {
        operationId: `updateBatch${op.entity}`,
        summary: `Create or Update Batch ${op.entity}`,
        description: `Upserts ${op.entity} records.`,
        "x-vbapi-package": op.pkg ?? "billing",
        parameters: [
          { name: "db", in: "header", required: true, schema: { type: "string" } },
          ...(op.params ?? []).map((p) => ({
            name: p.name,
            in: "path",
            required: true,
            description: `The ${p.name}.`,
            schema: p.schema ?? { type: "integer", format: "int32" },
          })),
        ],
        requestBody: {
          content: {
            "application/json": {
              schema: { type: "array", items: { $ref: `#/components/schemas/${op.entity}` } },
            },
          },
        },
        responses: { "200": { description: "ok" } },
      },
    };
    schemas[op.entity] = {
      type: "object",
      description: `A ${op.entity}.`,
      "x-vbapi-key": keys,
      additionalProperties: false,
      required: keys,
      properties: {
        ...Object.fromEntries(keys.map((k) => [k, { type: "integer", format: "int32" }])),
        name: { type: ["string", "null"], maxLength: 10 },
      },
      ...op.schema,
    };
  }
  return { openapi: "3.1.0", info: { title: "t", version: "1" }, paths, components: { schemas } };
}

/** Everything codegen writes for the spec: the client's files and each package's entry point. */
async function generateAll(spec: ReturnType<typeof specOf>) {
  const client = await generateFromSpec(structuredClone(spec) as never);
  const packages = new Set(
    Object.values(spec.paths).map(
      (p) => (p as { put: { "x-vbapi-package": string } }).put["x-vbapi-package"],
    ),
  );
  const domains = new Map<string, string>();
  for (const name of packages) {
    domains.set(name, generateDomain(spec as never, name).get("index.ts") as string);
  }
  return { client, domains };
}

const count = (text: string, what: string) => text.split(what).length - 1;

describe("generated names", () => {
  it("compiles for several operations of one package, sharing a path parameter's type", async () => {
    const spec = specOf(
      {
        entity: "Widget",
        path: "/owners/{ownerKey}/widgets-batch",
        params: [{ name: "ownerKey" }],
      },
      {
        entity: "Gadget",
        path: "/owners/{ownerKey}/gadgets-batch",
        params: [{ name: "ownerKey" }],
      },
      { entity: "Sprocket", path: "/sprockets-batch", schema: { "x-vbapi-type-name": "Cog" } },
      {
        entity: "Gizmo",
        path: "/owners/{ownerKey}/gizmos-batch",
        pkg: "events",
        params: [{ name: "ownerKey" }],
      },
    );
    const { client, domains } = await generateAll(spec);
    const billing = domains.get("billing") as string;
    // Declared once per package, used by both of its operations.
    expect(count(billing, "export type OwnerKey =")).toBe(1);
    expect(count(billing, "  ownerKey: OwnerKey,")).toBe(2);
    expect(billing.replace(/\n \* /g, " ")).toContain(
      "(path parameter ownerKey of PUT /owners/{ownerKey}/gadgets-batch, PUT /owners/{ownerKey}/widgets-batch)",
    );
    expect(count(domains.get("events") as string, "export type OwnerKey =")).toBe(1);
    expect(typecheck(client, domains)).toEqual([]);
  }, 30_000);

  it("compiles with entities named like each other's generated helpers", async () => {
    const spec = specOf(
      { entity: "Widget", path: "/widgets-batch" },
      { entity: "WidgetPathParams", path: "/widget-path-params-batch" },
    );
    const { client, domains } = await generateAll(spec);
    expect(typecheck(client, domains)).toEqual([]);
  }, 30_000);

  it("refuses one path parameter name with two schemas, naming both operations", async () => {
    const spec = specOf(
      {
        entity: "Widget",
        path: "/owners/{ownerKey}/widgets-batch",
        params: [{ name: "ownerKey" }],
      },
      {
        entity: "Gadget",
        path: "/owners/{ownerKey}/gadgets-batch",
        params: [{ name: "ownerKey", schema: { type: "string" } }],
      },
    );
    await expect(generateFromSpec(spec as never)).rejects.toThrow(
      "codegen: operation updateBatchWidget (PUT /owners/{ownerKey}/widgets-batch): the type of path parameter ownerKey would be named OwnerKey, as the type of path parameter ownerKey of operation updateBatchGadget (PUT /owners/{ownerKey}/gadgets-batch), which has another schema",
    );
    expect(() => generateDomain(spec as never, "billing")).toThrow(/updateBatchGadget/);
  });

  it.each(["client", "records", "options", "upsertAll", "default", "class", "arguments"])(
    "refuses the path parameter name %s, naming the operation",
    async (name) => {
      const spec = specOf({
        entity: "Widget",
        path: `/owners/{${name}}/widgets-batch`,
        params: [{ name }],
      });
      await expect(generateFromSpec(spec as never)).rejects.toThrow(
        `codegen: operation updateBatchWidget (PUT /owners/{${name}}/widgets-batch): path parameter "${name}" `,
      );
      expect(() => generateDomain(spec as never, "billing")).toThrow(/updateBatchWidget/);
    },
  );

  it("refuses a path parameter that is not an identifier", async () => {
    const spec = specOf({
      entity: "Widget",
      path: "/provider-credentialing/{provider-cred-key}/widgets-batch",
      params: [{ name: "provider-cred-key" }],
    });
    await expect(generateFromSpec(spec as never)).rejects.toThrow(
      'operation updateBatchWidget (PUT /provider-credentialing/{provider-cred-key}/widgets-batch): path parameter "provider-cred-key" is not an identifier',
    );
  });

  it("refuses an entity name that is not an identifier, even with a plural and a type name", async () => {
    const spec = specOf({
      entity: "Provider.Dot",
      path: "/provider-dots-batch",
      schema: { "x-vbapi-plural": "ProviderDots", "x-vbapi-type-name": "ProviderDot" },
    });
    await expect(generateFromSpec(spec as never)).rejects.toThrow(
      'operation updateBatchProvider.Dot (PUT /provider-dots-batch): the entity schema name "Provider.Dot" is not an identifier',
    );
    expect(() => generateDomain(spec as never, "billing")).toThrow(/"Provider.Dot"/);
  });

  it("refuses two operations with the same x-vbapi-plural, naming both", async () => {
    const spec = specOf(
      { entity: "Widget", path: "/widgets-batch", schema: { "x-vbapi-plural": "Things" } },
      {
        entity: "Gadget",
        path: "/gadgets-batch",
        pkg: "events",
        schema: { "x-vbapi-plural": "Things" },
      },
    );
    await expect(generateFromSpec(spec as never)).rejects.toThrow(
      /^codegen: operation updateBatchWidget \(PUT \/widgets-batch\): its options type would be named UpsertThingsOptions, as the options type of operation updateBatchGadget \(PUT \/gadgets-batch\)/,
    );
  });

  it.each([
    "VbapiClient",
    "BatchResult",
    "BulkReport",
    "UpsertAllEntityOptions",
    "EntityRecord",
    "Promise",
    "Omit",
  ])("refuses the x-vbapi-type-name %s, which the generated code already uses", async (name) => {
    const spec = specOf({
      entity: "Widget",
      path: "/widgets-batch",
      schema: { "x-vbapi-type-name": name },
    });
    await expect(generateFromSpec(spec as never)).rejects.toThrow(
      `codegen: operation updateBatchWidget (PUT /widgets-batch): its record type would be named ${name}, which the generated code already declares or uses`,
    );
  });

  it.each([
    [
      "a type name and another's key type",
      [
        { entity: "Widget", path: "/widgets-batch" },
        { entity: "Gadget", path: "/gadgets-batch", schema: { "x-vbapi-type-name": "WidgetKey" } },
      ],
      "operation updateBatchWidget (PUT /widgets-batch): its key type would be named WidgetKey, as the record type of operation updateBatchGadget (PUT /gadgets-batch)",
    ],
    [
      "a type name and another's",
      [
        { entity: "Widget", path: "/widgets-batch", pkg: "events" },
        { entity: "Gadget", path: "/gadgets-batch", schema: { "x-vbapi-type-name": "Widget" } },
      ],
      "operation updateBatchWidget (PUT /widgets-batch): its record type would be named Widget, as the record type of operation updateBatchGadget (PUT /gadgets-batch)",
    ],
    [
      "a path parameter's type and the record type",
      [{ entity: "Widget", path: "/owners/{widget}/widgets-batch", params: [{ name: "widget" }] }],
      "the type of path parameter widget would be named Widget, as the record type of operation updateBatchWidget",
    ],
    [
      "two path parameters with the same type name",
      [
        {
          entity: "Widget",
          path: "/owners/{ownerKey}/{OwnerKey}/widgets-batch",
          params: [{ name: "ownerKey" }, { name: "OwnerKey" }],
        },
      ],
      "the type of path parameter OwnerKey would be named OwnerKey, as the type of path parameter ownerKey of operation updateBatchWidget",
    ],
    [
      "a plural that makes one upsert function another's bulk one-liner",
      [
        { entity: "Widget", path: "/widgets-batch", schema: { "x-vbapi-plural": "AllGadgets" } },
        { entity: "Gadget", path: "/gadgets-batch" },
      ],
      "would be named upsertAllGadgets, as",
    ],
  ] as const)("refuses %s declared under one name", async (_, ops, message) => {
    await expect(generateFromSpec(specOf(...(ops as readonly Op[])) as never)).rejects.toThrow(
      message,
    );
  });

  it("escapes */ in spec text put into comments", async () => {
    const spec = specOf({
      entity: "Widget",
      path: "/owners/{ownerKey}/widgets-batch",
      params: [{ name: "ownerKey" }],
      keys: ["a*/b"],
      schema: { title: "ends */ here", description: "also */ here" },
    });
    const { client, domains } = await generateAll(spec);
    const billing = domains.get("billing") as string;
    expect(billing).toContain("/** The key fields of a Widget: a* /b. */");
    expect(typecheck(client, domains)).toEqual([]);
  }, 30_000);
});
