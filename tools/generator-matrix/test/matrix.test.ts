// The matrix fails, with the generator's or the compiler's own message, on a spec change that
// breaks a generator; and the typed program it writes covers every operation.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { GENERATORS, operationsOf, program } from "../matrix.mjs";

const here = resolve(import.meta.dirname, "..");
const dist = resolve(here, "../../packages/openapi/dist");
const bundle = (f: string) => readFileSync(join(dist, f), "utf8");

/** Writes both bundles after `edit` (applied to their JSON text), runs the matrix over them. */
function runPlanted(edit: (text: string) => string, ...args: string[]) {
  const dir = mkdtempSync(join(tmpdir(), "generator-matrix-"));
  writeFileSync(join(dir, "openapi.json"), edit(bundle("openapi.json")));
  writeFileSync(join(dir, "openapi.3.0.json"), edit(bundle("openapi.3.0.json")));
  const r = spawnSync(
    process.execPath,
    [
      join(here, "run.mjs"),
      "--spec31",
      join(dir, "openapi.json"),
      "--spec30",
      join(dir, "openapi.3.0.json"),
      "--out",
      join(dir, "out"),
      ...args,
    ],
    { encoding: "utf8", timeout: 120_000 },
  );
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

describe("generator-matrix on a planted incompatible change", () => {
  it("a schema named ApiError: openapi-typescript-codegen's output no longer compiles", () => {
    const r = runPlanted(
      (t) => t.replaceAll("VBAProblemDetails", "ApiError"),
      "--only",
      "openapi-typescript-codegen",
    );
    expect(r.code).toBe(1);
    expect(r.out).toMatch(
      /FAIL {2}openapi-typescript-codegen@0\.31\.0 \(OpenAPI 3\.0\): tsc failed/,
    );
    expect(r.out).toContain("gen/index.ts(5,10): error TS2300: Duplicate identifier 'ApiError'.");
    expect(r.out).toContain("0/1 generators passed");
  }, 60_000);

  it("a dangling $ref: each generator fails with its own message", () => {
    const r = runPlanted(
      (t) => t.replace('"#/components/schemas/Tolerance"', '"#/components/schemas/Nope"'),
      "--only",
      "@hey-api/openapi-ts",
      "--only",
      "oazapfts",
    );
    expect(r.code).toBe(1);
    expect(r.out).toMatch(
      /FAIL {2}@hey-api\/openapi-ts@0\.95\.0 \(OpenAPI 3\.1\): generate failed/,
    );
    expect(r.out).toContain("Reference not found: #/components/schemas/Nope");
    expect(r.out).toMatch(/FAIL {2}oazapfts@7\.5\.0 \(OpenAPI 3\.1\): generate failed/);
    expect(r.out).toContain(
      'MissingPointerError: Missing $ref pointer "#/components/schemas/Nope"',
    );
  }, 60_000);

  it("refuses a missing bundle and an unknown generator as usage errors", () => {
    const missing = spawnSync(
      process.execPath,
      [join(here, "run.mjs"), "--spec31", "/nonexistent.json"],
      {
        encoding: "utf8",
      },
    );
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain("no 3.1 bundle at /nonexistent.json: run `pnpm build` first");
    const unknown = spawnSync(process.execPath, [join(here, "run.mjs"), "--only", "orval"], {
      encoding: "utf8",
    });
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain("unknown generator orval");
  });
});

describe("the typed program", () => {
  const spec = JSON.parse(bundle("openapi.json"));

  it("checks every batch operation's body and result, and references every operation", () => {
    const doc = structuredClone(spec);
    doc.paths["/user-authentication"] = {
      post: {
        operationId: "login",
        tags: ["Authentication"],
        requestBody: { content: { "application/json": { schema: { type: "object" } } } },
        responses: { "200": { description: "ok" } },
      },
    };
    const ops = operationsOf(doc);
    expect(
      ops
        .filter((o) => o.entity)
        .map((o) => o.entity)
        .sort(),
    ).toEqual(["ArmorCodeExCode", "ClaimPromptPay", "Event", "ProviderCredService", "Tolerance"]);
    for (const gen of GENERATORS) {
      const source = program(gen, ops);
      expect(source).toContain(
        `${gen.op(ops.find((o) => o.operationId === "login"))}, // POST /user-authentication`,
      );
      expect(source.match(/^export namespace /gm)).toHaveLength(5);
      expect(source).toContain(
        "// @ts-expect-error a record without its required field event_ID is refused",
      );
    }
  });

  it("says which operation it cannot check", () => {
    const doc = structuredClone(spec);
    const media = doc.paths["/events-batch"].put.requestBody.content["application/json"];
    delete media.examples;
    expect(() => program(GENERATORS[0], operationsOf(doc))).toThrow(
      "PUT /events-batch: the request has no example records to check with",
    );
  });
});
