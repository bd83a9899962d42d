// The 3.0 bundle: converted from the 3.1 one without losing a constraint, and valid 3.0.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { toOpenApi30 } from "../scripts/down-convert.mjs";
import { facts, meaningDiff } from "../scripts/meaning.mjs";

const pkg = resolve(import.meta.dirname, "..");
const read = (f: string) => JSON.parse(readFileSync(join(pkg, "dist", f), "utf8"));
const spec31 = read("openapi.json");
const spec30 = read("openapi.3.0.json");
const clone = <T>(x: T): T => structuredClone(x);
// A parsed OpenAPI document, edited freely by the planted faults below.
// biome-ignore lint/suspicious/noExplicitAny: the tests reach into arbitrary spec locations
type Doc = any;

function lint(doc: unknown): { code: number | null; out: string } {
  const file = join(mkdtempSync(join(tmpdir(), "openapi30-")), "openapi.3.0.json");
  writeFileSync(file, JSON.stringify(doc));
  const redocly = join(pkg, "node_modules/.bin/redocly");
  const r = spawnSync(redocly, ["lint", file, "--config", join(pkg, "../../redocly.yaml")], {
    encoding: "utf8",
  });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

describe("openapi.3.0.json", () => {
  it("is OpenAPI 3.0.3 with the 3.1-only spellings converted", () => {
    expect(spec30.openapi).toBe("3.0.3");
    const text = JSON.stringify(spec30);
    expect(text).not.toMatch(/"type":\[/);
    expect(text).not.toMatch(/"const":/);
    expect(spec30.info.summary).toBeUndefined();
    expect(spec30.info.license).toEqual({ name: "MIT", url: "https://spdx.org/licenses/MIT.html" });
    const event = spec30.components.schemas.Event;
    expect(event.properties.completion_Date).toMatchObject({
      type: "string",
      nullable: true,
      format: "date-time",
    });
    expect(event.properties.entry_User).toMatchObject({
      type: "string",
      nullable: true,
      maxLength: 20,
    });
    expect(event.examples).toBeUndefined();
    expect(event.example).toEqual(spec31.components.schemas.Event.examples[0]);
  });

  it("means what the 3.1 bundle means: paths, operations, required, nullability, formats, limits", () => {
    expect(meaningDiff(spec31, spec30)).toEqual([]);
    const f = facts(spec30);
    // the comparison covers what a client relies on (not an empty set of facts)
    expect(f.get("PUT /events-batch operationId")).toBe("updateBatchEvent");
    expect(f.get("schema Event: required")).toBe(
      JSON.stringify(["claim_Audit_Event", "event_ID", "process_Automation_Event", "reminder"]),
    );
    expect(f.get("schema Event:.entry_User maxLength")).toBe("20");
    expect(f.get("schema Event:.completion_Date nullable")).toBe("true");
    expect(f.get("schema Event:.completion_Date format")).toBe('"date-time"');
    expect(
      f.get("PUT /events-batch parameter $ref #/components/parameters/vbasoftware-database"),
    ).toBe(undefined);
  });

  it("the YAML holds the same document as the JSON (3.0 and 3.1)", () => {
    expect(parse(readFileSync(join(pkg, "dist/openapi.3.0.yaml"), "utf8"))).toEqual(spec30);
    expect(parse(readFileSync(join(pkg, "dist/openapi.yaml"), "utf8"))).toEqual(spec31);
  });

  it("validates under the repository's strict Redocly rules", () => {
    const r = lint(spec30);
    expect(r.out).toMatch(/valid/);
    expect(r.code).toBe(0);
  });
});

describe("a conversion that drops a constraint is caught", () => {
  const planted: [string, (d: Doc) => void, RegExp][] = [
    [
      "a dropped maxLength",
      (d) => delete d.components.schemas.Event.properties.entry_User.maxLength,
      /schema Event:\.entry_User maxLength: 20 → \(absent\)/,
    ],
    [
      "a lost nullable",
      (d) => delete d.components.schemas.Tolerance.properties.group_ID.nullable,
      /schema Tolerance:\.group_ID nullable: true → false/,
    ],
    [
      "a dropped format",
      (d) => delete d.components.schemas.Event.properties.due_Date.format,
      /due_Date format: "date-time" → \(absent\)/,
    ],
    [
      "a dropped required field",
      (d) => d.components.schemas.Event.required.pop(),
      /schema Event: required/,
    ],
    [
      "a dropped operation",
      (d) => delete d.paths["/tolerances-batch"],
      /path \/tolerances-batch: present → \(absent\)/,
    ],
    [
      "a dropped media type",
      (d) => delete d.paths["/events-batch"].put.requestBody.content["text/json"],
      /PUT \/events-batch requestBody text\/json: present/,
    ],
    [
      "a dropped additionalProperties: false",
      (d) => delete d.components.schemas.Event.additionalProperties,
      /schema Event: additionalProperties: false → \(absent\)/,
    ],
  ];
  for (const [what, plant, message] of planted) {
    it(`reports ${what}`, () => {
      const broken = clone(spec30);
      plant(broken);
      const diff = meaningDiff(spec31, broken);
      expect(diff.join("\n")).toMatch(message);
    });
  }

  it("treats the 3.1 and 3.0 spellings of the same constraint as equal", () => {
    const a = {
      components: { schemas: { X: { type: ["integer", "null"], const: 3, exclusiveMinimum: 1 } } },
    };
    const b = {
      components: {
        schemas: {
          X: { type: "integer", nullable: true, enum: [3], minimum: 1, exclusiveMinimum: true },
        },
      },
    };
    expect(meaningDiff(a, b)).toEqual([]);
    b.components.schemas.X.exclusiveMinimum = false;
    expect(meaningDiff(a, b)).toEqual(["schema X: exclusiveMinimum: true → (absent)"]);
  });

  it("Redocly rejects a 3.0 bundle that kept a 3.1 spelling", () => {
    const broken = clone(spec30);
    broken.components.schemas.Event.properties.entry_User.type = ["string", "null"];
    const r = lint(broken);
    expect(r.code).not.toBe(0);
    expect(r.out).toMatch(/entry_User/);
  });
});

describe("constructs 3.0 cannot express are refused loudly, with their place", () => {
  const cases: [string, (d: Doc) => void, string][] = [
    [
      "patternProperties (the converter would delete it)",
      (d) => (d.components.schemas.Event.patternProperties = { "^x-": {} }),
      "#/components/schemas/Event/patternProperties: 3.1 keyword `patternProperties`",
    ],
    [
      "a two-type union",
      (d) =>
        (d.components.schemas.Tolerance.properties.tolerance1.type = ["number", "string", "null"]),
      '#/components/schemas/Tolerance/properties/tolerance1/type: type ["number","string","null"] cannot be expressed',
    ],
    [
      "a falsy const (the converter skips it)",
      (d) => (d.components.schemas.Event.properties.reminder.const = false),
      "#/components/schemas/Event/properties/reminder/const: const false is not converted",
    ],
    [
      "a numeric exclusiveMinimum",
      (d) => (d.components.schemas.Tolerance.properties.tolerance1.exclusiveMinimum = 0),
      "#/components/schemas/Tolerance/properties/tolerance1/exclusiveMinimum: numeric exclusiveMinimum",
    ],
    [
      "prefixItems in a request body",
      (d) =>
        (d.paths["/events-batch"].put.requestBody.content["application/json"].schema.prefixItems = [
          {},
        ]),
      "#/paths/~1events-batch/put/requestBody/content/application~1json/schema/prefixItems",
    ],
    ["webhooks", (d) => (d.webhooks = { ping: {} }), "#/webhooks"],
  ];
  for (const [what, plant, message] of cases) {
    it(what, () => {
      const doc = clone(spec31);
      plant(doc);
      expect(() => toOpenApi30(doc)).toThrow(message);
    });
  }

  it("refuses a document that is not 3.1", () => {
    expect(() => toOpenApi30(spec30)).toThrow(
      "expected an OpenAPI 3.1 document, got openapi: 3.0.3",
    );
  });
});
