// One source of truth: the spec lists the batch entities; nothing hand-written lists them again.
// Every source file of the repository (tests, fixtures, README examples, the demo and its data,
// generated code and the spec itself aside) is searched for the entities' names; a file naming
// three or more of them holds a list that a sixth endpoint would have to be added to by hand.
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { findBatchOperations } from "@vbapi-sdk/tool-spec-model";
import { describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "../../..");
const spec = JSON.parse(
  readFileSync(createRequire(import.meta.url).resolve("@vbapi-sdk/openapi/openapi.json"), "utf8"),
);

/** Where a list of the entities is expected: not hand-written code. */
const EXEMPT = [
  /(^|\/)(node_modules|dist|\.git|\.turbo|test-results|generated|test|tests|fixtures|examples)(\/|$)/,
  /\.(test|test-d)\.ts$/,
  /\.(md|yaml|yml|json|lock)$/,
  /^pnpm-lock\.yaml$/,
  /^openapi\//, // the spec itself
  /^packages\/openapi\/released\//, // the last released bundle
  /^tools\/demo\//, // the demo and its sample data
  /^tools\/consumer-test\//, // a test of the packed packages
  /^\.changeset\//,
];

/** The repository's files: tracked or new, never what .gitignore leaves out (build output). */
function repositoryFiles(): string[] {
  const out = execFileSync("git", ["ls-files", "--cached", "--others", "--exclude-standard"], {
    cwd: root,
    encoding: "utf8",
  });
  return out.split("\n").filter((f) => f !== "" && existsSync(join(root, f)));
}

function* sources(): Generator<string> {
  for (const rel of repositoryFiles()) {
    if (EXEMPT.some((re) => re.test(rel))) continue;
    if (/\.(ts|mts|cts|js|mjs|cjs)$/.test(rel)) yield rel;
  }
}

describe("the entities are listed only in the spec", () => {
  const entities = findBatchOperations(spec);
  const patterns = entities.map((e) => ({
    entity: e.entity,
    re: new RegExp(`\\b(${e.entity}|${e.plural}|${e.typeName})\\b`),
  }));

  it("finds the spec's entities (the check is not vacuous)", () => {
    expect(entities.length).toBeGreaterThanOrEqual(5);
    const demo = readFileSync(join(root, "tools/demo/sample-data.ts"), "utf8");
    expect(patterns.filter((p) => p.re.test(demo)).length).toBeGreaterThanOrEqual(3);
  });

  it("no hand-written source names three or more of them", () => {
    const lists: string[] = [];
    let scanned = 0;
    for (const file of sources()) {
      scanned++;
      const text = readFileSync(join(root, file), "utf8");
      const named = patterns.filter((p) => p.re.test(text)).map((p) => p.entity);
      if (named.length >= 3) lists.push(`${file}: ${named.join(", ")}`);
    }
    expect(scanned).toBeGreaterThan(100);
    expect(lists, "derive these from the spec (entityNames, the entity table, codegen)").toEqual(
      [],
    );
  });
});
