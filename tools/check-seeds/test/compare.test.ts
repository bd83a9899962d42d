import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { compareSeed, unseededOperations } from "../compare.ts";
import { parseSeed, readSeeds, type SeedEndpoint, seedFacts } from "../seeds.ts";
import { facts, fixtures, seedsDir, withSeeds } from "./seeds.ts";

const specFile = createRequire(import.meta.url).resolve("@vbapi-sdk/openapi/openapi.json");
const bundle = () => JSON.parse(readFileSync(specFile, "utf8"));
const diff = (spec: unknown, seeds: SeedEndpoint[] = facts) => [
  ...seeds.flatMap((s) => compareSeed(spec, s)),
  ...unseededOperations(spec, seeds),
];

describe("seed parsing", () => {
  it("reads an endpoint: method, path, security, parameters, fields and media types", () => {
    const file = "widget-seed.txt";
    const seed = parseSeed(readFileSync(resolve(fixtures, file), "utf8"), file);
    expect(seedFacts(seed)).toEqual({
      file,
      entity: "Widget",
      method: "put",
      path: "/owners/{ownerKey}/widgets-batch",
      security: ["apiKeyAuth", "bearerAuth"],
      headers: [{ path: "vbasoftware-database", types: ["string"], required: true }],
      pathParams: [{ path: "ownerKey", types: ["integer"], required: true }],
      requestMediaType: "application/json",
      requestFields: [
        { path: "widget_Key", types: ["integer"], required: true },
        { path: "name", types: ["null", "string"], required: false },
        { path: "weight", types: ["number"], required: false },
      ],
      responseStatus: "207",
      responseMediaType: "text/plain",
      responseFields: [
        { path: "data", types: ["array", "null"], required: false },
        { path: "data.id", types: ["array"], required: true },
        { path: "data.id.value", types: ["any", "null"], required: false },
        { path: "data.status", types: ["integer"], required: true },
      ],
    });
    expect(seed.requestFields[0]?.description).toBe(
      "Unique identifier - with a dash in its description.",
    );
  });

  it("names the file when a seed cannot be parsed", () => {
    expect(() => parseSeed("# Something else entirely", "bad.txt")).toThrow(
      'bad.txt: no "Endpoint: METHOD /path" line',
    );
  });
});

describe("the committed seed facts", () => {
  it("hold all five endpoints with their fields", () => {
    expect(facts.map((s) => s.entity).sort()).toEqual([
      "ArmorCodeExCode",
      "ClaimPromptPay",
      "Event",
      "ProviderCredService",
      "Tolerance",
    ]);
    const tolerance = facts.find((s) => s.entity === "Tolerance");
    expect(tolerance?.requestFields.find((f) => f.path === "tolerance1")).toMatchObject({
      types: ["number"],
      required: true,
    });
    const pcs = facts.find((s) => s.entity === "ProviderCredService");
    expect(pcs?.pathParams).toMatchObject([
      { path: "providerCredKey", types: ["integer"], required: true },
    ]);
    expect(pcs?.responseFields.find((f) => f.path === "data.id.value")?.types).toEqual([
      "any",
      "null",
    ]);
  });

  it.skipIf(!seedsDir)(withSeeds("equal what the seeds parse to"), () => {
    const seeds = readSeeds(seedsDir as string);
    expect(seeds.map(seedFacts)).toEqual(facts);
    expect(diff(bundle(), seeds)).toEqual([]);
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

  it("accepts an operation no seed describes only when it names its public source", () => {
    const spec = bundle();
    spec.paths["/user-authentication"] = {
      post: {
        operationId: "login",
        "x-vbapi-source": "https://developer.vbasoftware.com (login)",
        parameters: [{ $ref: "#/components/parameters/vbasoftware-database" }],
        requestBody: { content: { "application/json": { schema: { type: "object" } } } },
        responses: { "200": { description: "the ID token" } },
      },
    };
    expect(diff(spec)).toEqual([]);
    delete spec.paths["/user-authentication"].post["x-vbapi-source"];
    expect(diff(spec)).toEqual(["POST /user-authentication: in the spec but described by no seed"]);
  });

  it("reports a dropped media type", () => {
    const spec = bundle();
    delete spec.paths["/tolerances-batch"].put.responses["207"].content["text/plain"];
    expect(diff(spec)).toEqual(["PUT /tolerances-batch: response 207: no text/plain content"]);
  });
});
