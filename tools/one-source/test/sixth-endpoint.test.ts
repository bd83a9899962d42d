// A sixth endpoint is a spec change and nothing else: a copy of openapi/ gains one batch endpoint
// (its path file, its entity schema with x-vbapi-key, examples, x-vbapi-package), and the
// pipeline run on that copy alone (lint, bundle, codegen into a temporary output) yields the
// entity and its one-liners in the client, the domain package's export, the reference server's
// route (over real HTTP) and the Postman collection's request. No file outside the copy changes:
// a copy of the client (sources and tests) and of the billing entry, with the generated files
// for six entities in place, typechecks with the repository's TypeScript, and the client's test
// of its public surface passes.
import { execFileSync } from "node:child_process";
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { startMockServer } from "@vbapi-sdk/mock-server";
import { checkPackages, generateDomain, generateFromSpec } from "@vbapi-sdk/tool-codegen";
import { findBatchOperations, type JsonObject } from "@vbapi-sdk/tool-spec-model";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const repo = join(import.meta.dirname, "../../..");
const openapiPkg = join(repo, "packages/openapi");
const env = {
  ...process.env,
  PATH: `${join(openapiPkg, "node_modules/.bin")}${delimiter}${process.env.PATH}`,
};
let dir: string;

/** Runs a command; a failure throws with what it printed. */
function run(command: string, args: string[], cwd = repo): string {
  try {
    // A command that hangs is killed (a synchronous child blocks the test's own timeout).
    return execFileSync(command, args, {
      cwd,
      env,
      encoding: "utf8",
      stdio: "pipe",
      timeout: 120_000,
    });
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string };
    throw new Error(`${command} ${args[0]} failed:\n${e.stdout ?? ""}\n${e.stderr ?? ""}`);
  }
}
let bundle: JsonObject & { paths: Record<string, JsonObject> };

const PATH_FILE = `put:
  operationId: updateBatchOccupation
  summary: Create or Update Batch Occupation
  description: >-
    Create or Update multiple Occupation at once. If the entity exists, it will be updated. If the
    entity does not exist, it will be created.
  tags:
    - Occupations
  x-vbapi-package: billing
  parameters:
    - $ref: ../components/parameters/vbasoftware-database.yaml
  requestBody:
    required: true
    description: The occupations to create or update, as a JSON array.
    content:
      application/json:
        schema:
          type: array
          items:
            $ref: ../components/schemas/Occupation.yaml
        examples:
          OccupationBatch:
            $ref: ../components/examples/OccupationBatch.yaml
  responses:
    '207':
      description: Multi-Status, one entry per record.
      content:
        application/json:
          schema:
            $ref: ../components/schemas/MultiCodeResponseListVBAResponse.yaml
          examples:
            OccupationBatchResult:
              $ref: ../components/examples/OccupationBatchResult.yaml
    '400':
      $ref: ../components/responses/BadRequest.yaml
    '401':
      $ref: ../components/responses/Unauthorized.yaml
    '403':
      $ref: ../components/responses/Forbidden.yaml
    '429':
      $ref: ../components/responses/TooManyRequests.yaml
`;

const SCHEMA = `type: object
title: Occupation
description: An occupation a member or subscriber can be recorded with.
x-vbapi-key:
  - occupation_ID
additionalProperties: false
required:
  - occupation_ID
properties:
  occupation_ID:
    type: string
    maxLength: 16
    description: ID of the occupation.
  description:
    type: [string, 'null']
    maxLength: 64
    description: What the occupation is.
examples:
  - occupation_ID: TEACH
    description: Teacher
`;

const EXAMPLE = `summary: Two occupations
value:
  - occupation_ID: TEACH
    description: Teacher
  - occupation_ID: NURSE
`;

const RESULT = `summary: Both created
value:
  data:
    - id:
        - key: occupation_ID
          value: TEACH
      status: 201
      body: Created
    - id:
        - key: occupation_ID
          value: NURSE
      status: 201
      body: Created
  debug:
    activityID: 0HNBV7J8Q3K2M:00000099
`;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "vbapi-sixth-"));
  const spec = join(dir, "openapi");
  cpSync(join(repo, "openapi"), spec, { recursive: true });
  writeFileSync(join(spec, "paths/occupations-batch.yaml"), PATH_FILE);
  writeFileSync(join(spec, "components/schemas/Occupation.yaml"), SCHEMA);
  writeFileSync(join(spec, "components/examples/OccupationBatch.yaml"), EXAMPLE);
  writeFileSync(join(spec, "components/examples/OccupationBatchResult.yaml"), RESULT);
  const root = join(spec, "openapi.yaml");
  const text = readFileSync(root, "utf8")
    .replace(
      "  - name: Provider Credentialing Services",
      '  - name: Occupations\n    description: "Members: the occupations they can be recorded with."\n  - name: Provider Credentialing Services',
    )
    .replace(
      "  /provider-credentialing/",
      "  /occupations-batch:\n    $ref: paths/occupations-batch.yaml\n  /provider-credentialing/",
    );
  writeFileSync(root, text);
  cpSync(join(repo, "redocly.yaml"), join(dir, "redocly.yaml"));
}, 60_000);
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("a sixth batch endpoint, added to a copy of the spec", () => {
  // The build runs the strict lint of the split spec (`pnpm lint:spec`'s rules, the copy's own
  // redocly.yaml) beside the bundling and fails on any problem: one Redocly run, not two.
  it("passes the strict lint and bundles into every artifact, the Postman collection included", () => {
    const out = join(dir, "dist");
    run("node", [
      join(openapiPkg, "scripts/build.mjs"),
      "--spec",
      join(dir, "openapi/openapi.yaml"),
      "--out",
      out,
      "--config",
      join(dir, "redocly.yaml"),
      "--no-docs",
    ]);
    bundle = JSON.parse(readFileSync(join(out, "openapi.json"), "utf8"));
    expect(Object.keys(bundle.paths)).toContain("/occupations-batch");
    const postman = readFileSync(join(out, "vbapi.postman_collection.json"), "utf8");
    expect(postman).toContain("occupations-batch");
    expect(postman).toContain("Create or Update Batch Occupation");
    const samples = JSON.stringify(bundle.paths["/occupations-batch"]);
    expect(samples).toContain(
      'import { createVbapiClient, upsertOccupations } from \\"@vbapi-sdk/billing\\"',
    );
  }, 120_000);

  it("generates the client's entity, validator and one-liner, and the domain package's export", async () => {
    expect(bundle).toBeDefined();
    checkPackages(bundle, join(repo, "packages"));
    const client = await generateFromSpec(structuredClone(bundle));
    expect(client.get("entities.ts")).toContain('operationId: "updateBatchOccupation"');
    expect(client.get("entities.ts")).toContain('keys: ["occupation_ID"]');
    expect(client.get("entities.ts")).toContain('plural: "Occupations",');
    expect(client.get("validators.ts")).toContain("must be at most 16 characters long");
    expect(client.get("bulk.ts")).toContain(
      'export const upsertAllOccupations: BulkUpserter<"Occupation"> = /* @__PURE__ */ bulkUpserter("Occupation");',
    );
    const billing = generateDomain(bundle, "billing").get("index.ts") as string;
    expect(billing).toContain('export type Occupation = EntityRecord<"Occupation">;');
    expect(billing).toContain("export const upsertOccupations: (");
    expect(billing).toContain("  upsertAllOccupations,");
    // The five endpoints are still there, unchanged.
    expect(billing).toContain("export const upsertTolerances: (");
    // An x-vbapi-package naming no domain package is refused, naming the operation.
    const stray = structuredClone(bundle) as { paths: Record<string, { put: object }> };
    (stray.paths["/occupations-batch"]?.put as Record<string, unknown>)["x-vbapi-package"] =
      "members";
    expect(() => checkPackages(stray as never, join(repo, "packages"))).toThrow(
      /operation updateBatchOccupation \(PUT \/occupations-batch\) names x-vbapi-package "members"/,
    );
  });

  // About 5 to 10 s on its own: one tsc run over the client and the domain entries, one vitest
  // run, all CPU. Beside the rest of `pnpm test` on 2 cores, CI measured 29-46 s.
  it("typechecks: the client (its sources and tests) and the domain entries compile with six entities, and the public-surface test passes", async () => {
    expect(bundle).toBeDefined();
    // A copy of the client (src, test, tsconfig, package.json) and of the domain entries, with the
    // generated files of the six-entity spec in place of the committed ones and nothing else
    // changed; node_modules, lib/ (imported by the client's codegen test) and the base tsconfig
    // are the repository's own, linked.
    const work = join(dir, "typecheck");
    const client = join(work, "packages/client");
    for (const part of ["src", "test", "tsconfig.json", "package.json"]) {
      cpSync(join(repo, "packages/client", part), join(client, part), { recursive: true });
    }
    cpSync(join(repo, "tsconfig.base.json"), join(work, "tsconfig.base.json"));
    for (const [link, target] of [
      ["node_modules", "node_modules"],
      ["lib", "lib"],
      ["packages/client/node_modules", "packages/client/node_modules"],
    ] as const) {
      symlinkSync(join(repo, target), join(work, link), "junction");
    }
    for (const [name, contents] of await generateFromSpec(structuredClone(bundle))) {
      writeFileSync(join(client, "src/generated", name), contents);
    }
    // Every domain package's entry, billing's with the sixth entity, the others as they are.
    const domains = [...new Set(findBatchOperations(bundle).map((o) => o.package as string))];
    expect(domains).toContain("billing");
    for (const name of domains) {
      const pkg = join(work, "packages", name);
      mkdirSync(join(pkg, "src/generated"), { recursive: true });
      cpSync(join(repo, "packages", name, "package.json"), join(pkg, "package.json"));
      writeFileSync(
        join(pkg, "src/generated/index.ts"),
        generateDomain(bundle, name).get("index.ts") as string,
      );
    }
    // One program (one tsc run): the client's own tsconfig, plus the domain entries, importing
    // the client copy's sources (as the published package would be built from them).
    writeFileSync(
      join(work, "tsconfig.json"),
      JSON.stringify({
        extends: "./packages/client/tsconfig.json",
        compilerOptions: { paths: { "@vbapi-sdk/client": ["./packages/client/src/index.ts"] } },
        include: [
          "packages/client/src",
          "packages/client/test",
          ...domains.map((name) => `packages/${name}/src`),
        ],
      }),
    );
    run(process.execPath, [join(repo, "node_modules/typescript/bin/tsc"), "-p", work], work);
    // And the client's test of its public surface passes unchanged: one more upsertAll export.
    writeFileSync(
      join(work, "vitest.config.mjs"),
      'export default { cacheDir: ".vite", test: { include: ["packages/client/test/public-api.test.ts"] } };\n',
    );
    const report = JSON.parse(
      run(
        process.execPath,
        [
          join(repo, "node_modules/vitest/vitest.mjs"),
          "run",
          "--config",
          "vitest.config.mjs",
          "--reporter=json",
        ],
        work,
      ),
    ) as { numTotalTests: number; numPassedTests: number };
    expect(report.numTotalTests).toBeGreaterThan(0);
    expect(report.numPassedTests).toBe(report.numTotalTests);
  }, 150_000);

  it("is served by the reference server, validated and stored", async () => {
    expect(bundle).toBeDefined();
    const server = await startMockServer({ spec: bundle as never, rateLimit: false });
    try {
      const put = (body: unknown) =>
        fetch(`${server.url}/occupations-batch`, {
          method: "PUT",
          headers: {
            ...server.credentials.headers,
            "vbasoftware-database": "sixthdb",
            "content-type": "application/json",
          },
          body: JSON.stringify(body),
        });
      const created = await put([{ occupation_ID: "TEACH", description: "Teacher" }]);
      expect(created.status).toBe(207);
      const answer = (await created.json()) as { data: { status: number }[] };
      expect(answer.data.map((d) => d.status)).toEqual([201]);
      expect(server.store.count("sixthdb", "Occupation")).toBe(1);
      const refused = await put([{ occupation_ID: "X".repeat(17) }]);
      expect(refused.status).toBe(400);
    } finally {
      await server.close();
    }
  });
});
