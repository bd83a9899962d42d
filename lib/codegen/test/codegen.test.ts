import { findBatchOperations } from "@vbapi-sdk/tool-spec-model";
import { describe, expect, it } from "vitest";
import { generateFromSpec } from "../src/index.ts";

function spec(widget: Record<string, unknown>, extraParams: unknown[] = []) {
  return {
    openapi: "3.1.0",
    info: { title: "t", version: "1" },
    paths: {
      "/owners/{ownerKey}/widgets-batch": {
        put: {
          operationId: "updateBatchWidget",
          "x-vbapi-package": "billing",
          parameters: [
            { name: "db", in: "header", required: true, schema: { type: "string" } },
            {
              name: "ownerKey",
              in: "path",
              required: true,
              "x-vbapi-record-field": "owner_Key",
              schema: { type: "integer", format: "int32" },
            },
            ...extraParams,
          ],
          requestBody: {
            content: {
              "application/json": {
                schema: { type: "array", items: { $ref: "#/components/schemas/Widget" } },
              },
            },
          },
          responses: { "200": { description: "ok" } },
        },
      },
    },
    components: { schemas: { Widget: widget } },
  };
}

const widget = () => ({
  type: "object",
  "x-vbapi-key": ["owner_Key", "widget_Key"],
  additionalProperties: false,
  required: ["owner_Key", "widget_Key"],
  properties: {
    owner_Key: { type: "integer", format: "int32" },
    widget_Key: { type: "integer", format: "int32" },
    name: { type: ["string", "null"], maxLength: 10, description: "annotations are fine" },
  },
});

describe("codegen", () => {
  it("finds entities with keys, path params and record bindings", () => {
    const [e] = findBatchOperations(spec(widget()) as never);
    expect(e).toMatchObject({
      entity: "Widget",
      operationId: "updateBatchWidget",
      method: "put",
      path: "/owners/{ownerKey}/widgets-batch",
      pathParams: [{ name: "ownerKey" }],
      keys: ["owner_Key", "widget_Key"],
      recordFieldForPathParam: { ownerKey: "owner_Key" },
    });
  });

  it("emits the entity table, validators and types", async () => {
    const files = await generateFromSpec(spec(widget()) as never);
    expect(files.get("entities.ts")).toContain(
      'recordFieldForPathParam: { "ownerKey": "owner_Key" }',
    );
    expect(files.get("validators.ts")).toContain("must be at most 10 characters long");
    expect(files.get("entities.ts")).toContain('pathParams: ["ownerKey"],');
    // The plural of the one-liners' names (x-vbapi-plural, else entity + "s").
    expect(files.get("entities.ts")).toContain('plural: "Widgets",');
    expect(files.get("schema.ts")).toContain("updateBatchWidget");
    // The bulk one-liner takes the path parameter first.
    expect(files.get("bulk.ts")).toContain("export function upsertAllWidgets(");
    expect(files.get("bulk.ts")).toContain('ownerKey: EntityPathParams<"Widget">["ownerKey"],');
  });

  it.each([
    ["pattern", { pattern: "^a" }],
    ["enum", { enum: ["a"] }],
    ["minimum", { minimum: 1 }],
    ["oneOf", { oneOf: [{ type: "string" }] }],
  ])("fails on the unsupported keyword %s", async (keyword, extra) => {
    const w = widget();
    Object.assign(w.properties.name, extra);
    await expect(generateFromSpec(spec(w) as never)).rejects.toThrow(new RegExp(`"${keyword}"`));
  });

  it("fails on unsupported types, formats and open objects", async () => {
    const nested = widget();
    (nested.properties as Record<string, unknown>).tags = {
      type: "array",
      items: { type: "string" },
    };
    await expect(generateFromSpec(spec(nested) as never)).rejects.toThrow(
      /unsupported JSON Schema keyword "items"/,
    );
    const typed = widget();
    (typed.properties.name as Record<string, unknown>).type = "object";
    await expect(generateFromSpec(spec(typed) as never)).rejects.toThrow(/unsupported type/);
    const format = widget();
    (format.properties.name as Record<string, unknown>).format = "email";
    await expect(generateFromSpec(spec(format) as never)).rejects.toThrow(/unsupported format/);
    const open = widget() as Record<string, unknown>;
    open.additionalProperties = undefined;
    await expect(generateFromSpec(spec(open) as never)).rejects.toThrow(
      /additionalProperties: false/,
    );
  });

  it("fails on a key field that is not a required property", async () => {
    const w = widget();
    w.required = ["owner_Key"];
    await expect(generateFromSpec(spec(w) as never)).rejects.toThrow(/widget_Key must be required/);
  });
});

it("fails when the spec has no batch operation at all", async () => {
  const none = spec(widget());
  delete (none.paths["/owners/{ownerKey}/widgets-batch"].put as { requestBody?: unknown })
    .requestBody;
  await expect(generateFromSpec(none as never)).rejects.toThrow(
    "codegen: no batch operations found",
  );
});
