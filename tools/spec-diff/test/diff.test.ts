import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { type Change, diffSpecs } from "../diff.ts";

const P = "/things/{thingKey}";
const OP = `PUT ${P}`;
const body = (schema: unknown) => ({ schema });
const arrayOfThings = { type: "array", items: { $ref: "#/components/schemas/Thing" } };
const result = { $ref: "#/components/schemas/Result" };

/** A small spec shaped like the real one: a batch PUT of Things answered by a Result. */
// biome-ignore lint/suspicious/noExplicitAny: the tests mutate the spec freely
const base = (): any => ({
  openapi: "3.1.0",
  info: { title: "Things", version: "1.0.0" },
  security: [{ apiKey: [], bearer: [] }],
  paths: {
    [P]: {
      put: {
        operationId: "putThings",
        summary: "Put things",
        parameters: [
          { name: "thingKey", in: "path", required: true, schema: { type: "integer" } },
          { name: "db", in: "header", required: true, schema: { type: "string" } },
          { name: "dryRun", in: "query", schema: { type: "boolean" } },
        ],
        requestBody: {
          required: true,
          content: { "application/json": body(arrayOfThings), "text/json": body(arrayOfThings) },
        },
        responses: {
          "207": {
            description: "Multi-Status",
            content: { "application/json": body(result), "text/plain": body(result) },
          },
          "400": { description: "Bad request" },
        },
      },
    },
  },
  components: {
    securitySchemes: {
      apiKey: { type: "apiKey", in: "header", name: "x-api-key" },
      bearer: { type: "http", scheme: "bearer" },
    },
    schemas: {
      Thing: {
        type: "object",
        additionalProperties: false,
        required: ["key"],
        properties: {
          key: { type: "integer", format: "int32" },
          amount: { type: ["number", "null"], format: "double" },
          name: { type: ["string", "null"], maxLength: 20, minLength: 1 },
          kind: { type: "string", enum: ["a", "b"] },
          note: { type: "string", description: "A note." },
          created: { type: "string", format: "date-time", readOnly: true },
          parent: { $ref: "#/components/schemas/Thing" },
        },
      },
      Result: {
        type: "object",
        required: ["status", "id"],
        properties: {
          status: { type: "integer" },
          id: { type: "string" },
          message: { type: ["string", "null"] },
          level: { type: "string", enum: ["info", "error"] },
        },
      },
      Spare: { type: "string" },
    },
  },
});
// biome-ignore lint/suspicious/noExplicitAny: see above
type Spec = any;
const thing = (s: Spec) => s.components.schemas.Thing;
const res = (s: Spec) => s.components.schemas.Result;
const op = (s: Spec) => s.paths[P].put;

const lines = (changes: Change[], severity: Change["severity"]) =>
  changes.filter((c) => c.severity === severity).map((c) => `${c.location}: ${c.message}`);
const diff = (mutate: (s: Spec) => void, mutateBefore?: (s: Spec) => void) => {
  const [before, after] = [base(), base()];
  mutateBefore?.(before);
  mutate(after);
  return diffSpecs(before, after);
};

describe("breaking changes", () => {
  // [rule, change to the new spec, expected report line, change to the old spec]
  it.each<[string, (s: Spec) => void, string, ((s: Spec) => void)?]>([
    ["operation removed", (s) => delete s.paths[P], `${OP}: operation removed (the path is gone)`],
    [
      "method removed",
      (s) => {
        s.paths[P].post = op(s);
        delete s.paths[P].put;
      },
      `${OP}: method PUT removed`,
    ],
    [
      "operationId changed",
      (s) => {
        op(s).operationId = "upsertThings";
      },
      `${OP}: operationId changed from putThings to upsertThings`,
    ],
    [
      "path renamed",
      (s) => {
        s.paths["/stuff/{thingKey}"] = s.paths[P];
        delete s.paths[P];
      },
      `${OP}: path renamed to PUT /stuff/{thingKey}`,
    ],
    [
      "path parameter renamed",
      (s) => {
        op(s).parameters[0].name = "key";
        s.paths["/things/{key}"] = s.paths[P];
        delete s.paths[P];
      },
      `${OP}: path parameter renamed: {thingKey} → {key} (now /things/{key})`,
    ],
    [
      "request field newly required",
      (s) => thing(s).required.push("name"),
      `${OP} › request › name: now required`,
    ],
    [
      "new required request field",
      (s) => {
        thing(s).properties.extra = { type: "string" };
        thing(s).required.push("extra");
      },
      `${OP} › request › extra: new required field`,
    ],
    [
      "type removed from a type array (nullability removed)",
      (s) => {
        thing(s).properties.amount.type = "number";
      },
      `${OP} › request › amount: type narrowed from number|null to number`,
    ],
    [
      "type replaced",
      (s) => {
        thing(s).properties.note.type = "integer";
      },
      `${OP} › request › note: type changed from string to integer`,
    ],
    [
      "format narrowed",
      (s) => {
        thing(s).properties.amount.format = "float";
      },
      `${OP} › request › amount: format narrowed from double to float`,
    ],
    [
      "format added to a request field",
      (s) => {
        thing(s).properties.note.format = "uuid";
      },
      `${OP} › request › note: format narrowed: uuid added`,
    ],
    [
      "request field removed while additionalProperties is false",
      (s) => delete thing(s).properties.note,
      `${OP} › request › note: field removed while additionalProperties is false`,
    ],
    [
      "additionalProperties set to false",
      () => {},
      `${OP} › request › []: additionalProperties changed from absent to false`,
      (s) => delete thing(s).additionalProperties,
    ],
    [
      "response field removed",
      (s) => delete res(s).properties.message,
      `${OP} › response 207 › message: field removed`,
    ],
    [
      "response field type changed",
      (s) => {
        res(s).properties.status.type = "string";
      },
      `${OP} › response 207 › status: type changed from integer to string`,
    ],
    [
      "response field made nullable",
      (s) => {
        res(s).properties.id.type = ["string", "null"];
      },
      `${OP} › response 207 › id: type changed from string to string|null`,
    ],
    [
      "required response field made optional",
      (s) => {
        res(s).required = ["status"];
      },
      `${OP} › response 207 › id: required field made optional`,
    ],
    [
      "maxLength tightened",
      (s) => {
        thing(s).properties.name.maxLength = 10;
      },
      `${OP} › request › name: maxLength tightened from 20 to 10`,
    ],
    [
      "minLength raised",
      (s) => {
        thing(s).properties.name.minLength = 2;
      },
      `${OP} › request › name: minLength raised from 1 to 2`,
    ],
    [
      "new maxLength",
      (s) => {
        thing(s).properties.note.maxLength = 50;
      },
      `${OP} › request › note: new maxLength 50`,
    ],
    [
      "new maximum",
      (s) => {
        thing(s).properties.amount.maximum = 1000;
      },
      `${OP} › request › amount: new maximum 1000`,
    ],
    [
      "enum value removed from a request",
      (s) => {
        thing(s).properties.kind.enum = ["a"];
      },
      `${OP} › request › kind: enum value(s) removed: b`,
    ],
    [
      "enum value added to a response",
      (s) => {
        res(s).properties.level.enum.push("warning");
      },
      `${OP} › response 207 › level: enum value(s) added: warning`,
    ],
    [
      "schema removed",
      (s) => delete s.components.schemas.Spare,
      "components › schemas › Spare: schema removed",
    ],
    [
      "request media type dropped",
      (s) => delete op(s).requestBody.content["text/json"],
      `${OP} › request: media type text/json dropped`,
    ],
    [
      "response media type dropped",
      (s) => delete op(s).responses["207"].content["text/plain"],
      `${OP} › response 207: media type text/plain dropped`,
    ],
    [
      "required parameter added",
      (s) =>
        op(s).parameters.push({
          name: "tenant",
          in: "header",
          required: true,
          schema: { type: "string" },
        }),
      `${OP} › header parameter tenant: required parameter added`,
    ],
    [
      "parameter made required",
      (s) => {
        op(s).parameters[2].required = true;
      },
      `${OP} › query parameter dryRun: parameter made required`,
    ],
    [
      "parameter removed",
      (s) => op(s).parameters.splice(2, 1),
      `${OP} › query parameter dryRun: parameter removed`,
    ],
    [
      "parameter type narrowed",
      (s) => {
        op(s).parameters[1].schema.enum = ["prod", "test"];
      },
      `${OP} › header parameter db: values restricted to prod, test`,
    ],
    [
      "security requirement added",
      (s) => {
        op(s).security = [{ apiKey: [], bearer: [], mtls: [] }];
      },
      `${OP}: security requirements changed from apiKey + bearer to apiKey + bearer + mtls`,
    ],
    [
      "security added to an anonymous operation",
      () => {},
      `${OP}: security requirements changed from none to apiKey + bearer`,
      (s) => {
        s.security = [];
      },
    ],
    [
      "a scope added to a security requirement",
      (s) => {
        op(s).security = [{ apiKey: [], bearer: ["write"] }];
      },
      `${OP}: security requirements changed from apiKey + bearer to apiKey + bearer(write)`,
    ],
    [
      "response status removed",
      (s) => delete op(s).responses["400"],
      `${OP} › response 400: response status 400 removed`,
    ],
    [
      "request body made required",
      () => {},
      `${OP} › request: request body made required`,
      (s) => {
        op(s).requestBody.required = false;
      },
    ],
    [
      "security scheme changed",
      (s) => {
        s.components.securitySchemes.apiKey.name = "api-key";
      },
      "components › securitySchemes › apiKey: security scheme changed",
    ],
  ])("%s", (_name, mutate, line, mutateBefore) => {
    expect(lines(diff(mutate, mutateBefore), "breaking")).toContain(line);
  });

  it("a field newly required in a response is fine, one made optional is not", () => {
    const changes = diff((s) => {
      res(s).required = ["status", "message"];
    });
    expect(lines(changes, "breaking")).toEqual([
      `${OP} › response 207 › id: required field made optional`,
    ]);
    expect(lines(changes, "non-breaking")).toEqual([
      `${OP} › response 207 › message: now always present (made required)`,
    ]);
  });
});

describe("non-breaking changes", () => {
  it.each<[string, (s: Spec) => void, string]>([
    [
      "optional request field added",
      (s) => {
        thing(s).properties.extra = { type: "string" };
      },
      `${OP} › request › extra: optional field added`,
    ],
    [
      "response field added",
      (s) => {
        res(s).properties.extra = { type: "string" };
      },
      `${OP} › response 207 › extra: optional field added`,
    ],
    [
      "maxLength loosened",
      (s) => {
        thing(s).properties.name.maxLength = 50;
      },
      `${OP} › request › name: maxLength loosened from 20 to 50`,
    ],
    [
      "minLength removed",
      (s) => delete thing(s).properties.name.minLength,
      `${OP} › request › name: minLength 1 removed`,
    ],
    [
      "request type widened",
      (s) => {
        thing(s).properties.kind.type = ["string", "null"];
      },
      `${OP} › request › kind: type widened from string to string|null`,
    ],
    [
      "integer widened to number",
      (s) => {
        thing(s).properties.key.type = "number";
      },
      `${OP} › request › key: type widened from integer to number`,
    ],
    [
      "format widened",
      (s) => {
        thing(s).properties.key.format = "int64";
      },
      `${OP} › request › key: format widened from int32 to int64`,
    ],
    [
      "enum value added to a request",
      (s) => thing(s).properties.kind.enum.push("c"),
      `${OP} › request › kind: enum value(s) added: c`,
    ],
    [
      "request field no longer required",
      (s) => {
        thing(s).required = [];
      },
      `${OP} › request › key: now optional`,
    ],
    [
      "new operation",
      (s) => {
        s.paths["/other"] = {
          get: { operationId: "getOther", responses: { "200": { description: "OK" } } },
        };
      },
      "GET /other: operation getOther added",
    ],
    [
      "new response status",
      (s) => {
        op(s).responses["429"] = { description: "Too many requests" };
      },
      `${OP} › response 429: response status 429 added`,
    ],
    [
      "optional parameter added",
      (s) => op(s).parameters.push({ name: "trace", in: "query", schema: { type: "boolean" } }),
      `${OP} › query parameter trace: optional parameter added`,
    ],
    [
      "media type added",
      (s) => {
        op(s).requestBody.content["application/*+json"] = body(arrayOfThings);
      },
      `${OP} › request: media type application/*+json added`,
    ],
    [
      "request field removed from an open schema",
      (s) => {
        delete thing(s).additionalProperties;
        delete thing(s).properties.note;
      },
      `${OP} › request › note: field removed`,
    ],
    [
      "schema added",
      (s) => {
        s.components.schemas.Other = { type: "string" };
      },
      "components › schemas › Other: schema added",
    ],
    [
      "security loosened",
      (s) => {
        op(s).security = [{ apiKey: [] }];
      },
      `${OP}: security requirements changed from apiKey + bearer to apiKey`,
    ],
    [
      "deprecated",
      (s) => {
        op(s).deprecated = true;
      },
      `${OP}: deprecated`,
    ],
  ])("%s", (_name, mutate, line) => {
    const changes = diff(mutate);
    expect(lines(changes, "non-breaking")).toContain(line);
    expect(lines(changes, "breaking")).toEqual([]);
  });

  it("puts description, summary and example changes in the docs group only", () => {
    const changes = diff((s) => {
      thing(s).properties.note.description = "Another note.";
      op(s).summary = "Upsert things";
      op(s).requestBody.content["application/json"].example = [{ key: 1 }];
      s.info.version = "1.1.0";
    });
    expect(lines(changes, "breaking")).toEqual([]);
    expect(lines(changes, "non-breaking")).toEqual([]);
    expect(lines(changes, "docs")).toEqual([
      `${OP} › request › note: description changed`,
      `${OP} › request: example added`,
      `${OP}: summary changed`,
      "info: version changed",
    ]);
  });
});

describe("diffSpecs", () => {
  it("finds nothing between equal documents", () => {
    expect(diffSpecs(base(), base())).toEqual([]);
  });

  it("reports a change seen through several media types once, breaking ones first", () => {
    const changes = diff((s) => {
      thing(s).properties.extra = { type: "string" };
      thing(s).properties.amount.type = "number";
    });
    expect(changes.map((c) => `${c.severity} ${c.location}: ${c.message}`)).toEqual([
      `breaking ${OP} › request › amount: type narrowed from number|null to number`,
      `non-breaking ${OP} › request › extra: optional field added`,
    ]);
  });

  it("ignores readOnly fields in requests but not in responses", () => {
    expect(diff((s) => delete thing(s).properties.created)).toEqual([]);
    const changes = diff((s) => {
      res(s).properties.id.readOnly = true;
      thing(s).properties.note.readOnly = true;
    });
    expect(lines(changes, "breaking")).toEqual([
      `${OP} › request › note: now readOnly: no longer accepted`,
    ]);
  });

  it("follows recursive schemas (Thing.parent is a Thing) without looping", () => {
    const changes = diff((s) => {
      thing(s).properties.name.maxLength = 5;
    });
    expect(lines(changes, "breaking")).toEqual([
      `${OP} › request › name: maxLength tightened from 20 to 5`,
    ]);
  });

  it("treats changes to unknown schema keywords as breaking, extensions as non-breaking", () => {
    const changes = diff((s) => {
      thing(s).properties.note.not = { const: "" };
      thing(s)["x-vbapi-key"] = ["key"];
    });
    expect(lines(changes, "breaking")).toEqual([
      `${OP} › request › note: not changed from none to {"const":""} (not classified by spec-diff: treated as breaking, review it)`,
    ]);
    expect(lines(changes, "non-breaking")).toEqual([
      `${OP} › request › []: x-vbapi-key changed from none to ["key"]`,
    ]);
  });

  it("names locations like the reviewers read them, on the real spec", () => {
    const file = resolve(import.meta.dirname, "../../../packages/openapi/released/openapi.json");
    const released = JSON.parse(readFileSync(file, "utf8"));
    expect(diffSpecs(released, released)).toEqual([]);
    const nullable = structuredClone(released);
    nullable.components.schemas.Tolerance.properties.tolerance1.type = ["number", "null"];
    expect(lines(diffSpecs(nullable, released), "breaking")).toEqual([
      "PUT /tolerances-batch › request › tolerance1: type narrowed from number|null to number",
    ]);
  });
});
