import { readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  checkPackages,
  generate,
  generateDomain,
  generateFromSpec,
} from "../../../lib/codegen/src/index.ts";

const specFile = createRequire(import.meta.url).resolve("@vbapi-sdk/openapi/openapi.json");
const generatedDir = join(import.meta.dirname, "../src/generated");
const packagesDir = join(import.meta.dirname, "../..");
/** The domain packages: package.json says "vbapi": { "domain": true }. */
const domains = readdirSync(packagesDir).filter((name) => {
  try {
    const pkg = JSON.parse(readFileSync(join(packagesDir, name, "package.json"), "utf8"));
    return pkg.vbapi?.domain === true;
  } catch {
    return false;
  }
});

describe("generated code", () => {
  it("is up to date with the spec (run `pnpm --filter @vbapi-sdk/client generate` when this fails)", async () => {
    const files = await generate(specFile);
    expect([...files.keys()].sort()).toEqual([
      "bulk.ts",
      "entities.ts",
      "schema.ts",
      "validators.ts",
    ]);
    for (const [name, contents] of files) {
      expect(readFileSync(join(generatedDir, name), "utf8"), `${name} is stale`).toBe(contents);
    }
  });

  it("carries a do-not-edit header", async () => {
    for (const name of ["bulk.ts", "entities.ts", "schema.ts", "validators.ts"]) {
      expect(readFileSync(join(generatedDir, name), "utf8")).toMatch(
        /^\/\/ This file is generated .*\n\/\/ Do not edit/,
      );
    }
  });

  it("the domain packages' entry points are up to date and carry the header", () => {
    const spec = JSON.parse(readFileSync(specFile, "utf8"));
    expect(domains.sort()).toEqual(["billing", "credentialing", "events"]);
    for (const name of domains) {
      const file = join(packagesDir, name, "src/generated/index.ts");
      const expected = generateDomain(spec, name).get("index.ts");
      expect(readFileSync(file, "utf8"), `${file} is stale`).toBe(expected);
      expect(expected).toMatch(/^\/\/ This file is generated .*\n\/\/ Do not edit/);
    }
    // Every batch operation is exported by exactly the package it names.
    checkPackages(spec, packagesDir);
  });

  it("refuses an operation without x-vbapi-package, or naming a package that is not a domain package", async () => {
    const spec = JSON.parse(readFileSync(specFile, "utf8"));
    delete spec.paths["/tolerances-batch"].put["x-vbapi-package"];
    await expect(generateFromSpec(spec)).rejects.toThrow(
      /operation updateBatchTolerance \(PUT \/tolerances-batch\) has no x-vbapi-package/,
    );
    const other = JSON.parse(readFileSync(specFile, "utf8"));
    other.paths["/tolerances-batch"].put["x-vbapi-package"] = "pharmacy";
    expect(() => checkPackages(other, packagesDir)).toThrow(
      /operation updateBatchTolerance \(PUT \/tolerances-batch\) names x-vbapi-package "pharmacy", which is not a domain package/,
    );
    other.paths["/tolerances-batch"].put["x-vbapi-package"] = "client";
    expect(() => checkPackages(other, packagesDir)).toThrow(
      /"client", which is not a domain package/,
    );
  });

  it("fails on a JSON Schema keyword the validator compiler does not support", async () => {
    const spec = JSON.parse(readFileSync(specFile, "utf8"));
    spec.components.schemas.Tolerance.properties.group_ID.pattern = "^[A-Z]+$";
    await expect(generateFromSpec(spec)).rejects.toThrow(
      /unsupported JSON Schema keyword "pattern"/,
    );
    const spec2 = JSON.parse(readFileSync(specFile, "utf8"));
    spec2.components.schemas.Event.properties.priority.enum = ["HIGH", "LOW"];
    await expect(generateFromSpec(spec2)).rejects.toThrow(/"enum"/);
    const spec3 = JSON.parse(readFileSync(specFile, "utf8"));
    spec3.components.schemas.Event.properties.event_ID.format = "uuid";
    await expect(generateFromSpec(spec3)).rejects.toThrow(/unsupported format/);
  });

  it("fails when an entity has no x-vbapi-key", async () => {
    const spec = JSON.parse(readFileSync(specFile, "utf8"));
    delete spec.components.schemas.Tolerance["x-vbapi-key"];
    await expect(generateFromSpec(spec)).rejects.toThrow(/x-vbapi-key/);
  });

  it("follows a spec change into the entity table", async () => {
    const spec = JSON.parse(readFileSync(specFile, "utf8"));
    spec.components.schemas.Tolerance.properties.tolerance1.maxLength = undefined;
    spec.components.schemas.Tolerance.properties.group_ID.maxLength = 8;
    const files = await generateFromSpec(JSON.parse(JSON.stringify(spec)));
    expect(files.get("validators.ts")).toContain("must be at most 8 characters long");
  });
});
