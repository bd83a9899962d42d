import { readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { compareSeed, unseededOperations } from "../compare.ts";
import { parseSeed } from "../seeds.ts";

const seedsDir = resolve(import.meta.dirname, "../../../../shared/seeds");
const seeds = readdirSync(seedsDir)
  .filter((f) => f.endsWith(".txt"))
  .map((f) => parseSeed(readFileSync(join(seedsDir, f), "utf8"), f));
const specFile = createRequire(import.meta.url).resolve("@vbapi-sdk/openapi/openapi.json");
const bundle = () => JSON.parse(readFileSync(specFile, "utf8"));
const diff = (spec: unknown) => [
  ...seeds.flatMap((s) => compareSeed(spec, s)),
  ...unseededOperations(spec, seeds),
];

describe("seed parsing", () => {
  it("reads all five endpoints with their fields", () => {
    expect(seeds.map((s) => s.entity).sort()).toEqual([
      "ArmorCodeExCode",
      "ClaimPromptPay",
      "Event",
      "ProviderCredService",
      "Tolerance",
    ]);
    const tolerance = seeds.find((s) => s.entity === "Tolerance");
    expect(tolerance?.requestFields.find((f) => f.path === "tolerance1")).toMatchObject({
      types: ["number"],
      required: true,
    });
    const pcs = seeds.find((s) => s.entity === "ProviderCredService");
    expect(pcs?.pathParams).toMatchObject([
      { path: "providerCredKey", types: ["integer"], required: true },
    ]);
    expect(pcs?.responseFields.find((f) => f.path === "data.id.value")?.types).toEqual([
      "any",
      "null",
    ]);
  });
});

describe("check:seeds", () => {
  it("finds no difference in the bundled spec", () => {
    expect(diff(bundle())).toEqual([]);
  });

  it("reports an operation no seed describes unless it names its source", () => {
    const spec = bundle();
    const login = spec.paths["/user-authentication"].post;
    expect(typeof login["x-vbapi-source"]).toBe("string");
    delete login["x-vbapi-source"];
    expect(diff(spec)).toEqual(["POST /user-authentication: in the spec but described by no seed"]);
  });

  it("reports a changed type, nullability and required-ness by field", () => {
    const spec = bundle();
    const t = spec.components.schemas.Tolerance;
    t.properties.tolerance1.type = "string";
    t.properties.group_ID.type = "string";
    t.required = ["tolerance_Key"];
    expect(diff(spec)).toEqual([
      "PUT /tolerances-batch: request group_ID: type is string in the spec, null,string in the seed",
      "PUT /tolerances-batch: request tolerance1: type is string in the spec, number in the seed",
      "PUT /tolerances-batch: request tolerance1: required in the seed, optional in the spec",
    ]);
  });

  it("reports missing and extra fields, nested response fields included", () => {
    const spec = bundle();
    delete spec.components.schemas.Event.properties.subject;
    spec.components.schemas.Event.properties.colour = { type: "string" };
    spec.components.schemas.KeyValuePair.properties.value.type = "string";
    const d = diff(spec);
    expect(d).toContain(
      "PUT /events-batch: request: field `colour` is in the spec but not in the seed",
    );
    expect(d).toContain("PUT /events-batch: request subject: missing from the spec");
    expect(d).toContain(
      "PUT /events-batch: response 207 data.id.value: type is string in the spec, any,null in the seed",
    );
  });

  it("reports headers, path parameters, paths, methods and security", () => {
    const spec = bundle();
    spec.components.parameters["vbasoftware-database"].required = false;
    spec.components.parameters.providerCredKey.schema.type = "string";
    spec.paths["/events-batch"].post = spec.paths["/events-batch"].put;
    delete spec.paths["/events-batch"].put;
    spec.security = [{ apiKeyAuth: [] }, { bearerAuth: [] }];
    const d = diff(spec);
    expect(d).toContain("PUT /events-batch is missing from the spec");
    expect(d).toContain("POST /events-batch: in the spec but described by no seed");
    expect(d).toContain(
      "PUT /tolerances-batch: header parameter `vbasoftware-database`: required is false in the spec, true in the seed",
    );
    expect(d).toContain(
      "PUT /provider-credentialing/{providerCredKey}/services-batch: path parameter `providerCredKey`: type is string in the spec, integer in the seed",
    );
    expect(d).toContain(
      "PUT /tolerances-batch: security: no requirement names all of apiKeyAuth, bearerAuth",
    );
  });

  it("reports a dropped media type", () => {
    const spec = bundle();
    delete spec.paths["/tolerances-batch"].put.responses["207"].content["text/plain"];
    expect(diff(spec)).toEqual(["PUT /tolerances-batch: response 207: no text/plain content"]);
  });
});
