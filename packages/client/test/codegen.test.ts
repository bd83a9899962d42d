import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { generate, generateFromSpec } from "../../../tools/codegen/src/index.ts";

const specFile = createRequire(import.meta.url).resolve("@vbapi-sdk/openapi/openapi.json");
const generatedDir = join(import.meta.dirname, "../src/generated");

describe("generated code", () => {
  it("is up to date with the spec (run `pnpm --filter @vbapi-sdk/client generate` when this fails)", async () => {
    const files = await generate(specFile);
    expect([...files.keys()].sort()).toEqual(["entities.ts", "schema.ts", "validators.ts"]);
    for (const [name, contents] of files) {
      expect(readFileSync(join(generatedDir, name), "utf8"), `${name} is stale`).toBe(contents);
    }
  });

  it("carries a do-not-edit header", async () => {
    for (const name of ["entities.ts", "schema.ts", "validators.ts"]) {
      expect(readFileSync(join(generatedDir, name), "utf8")).toMatch(
        /^\/\/ This file is generated .*\n\/\/ Do not edit/,
      );
    }
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
