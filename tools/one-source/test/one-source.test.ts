// One source of truth: the spec lists the batch entities; nothing hand-written lists them again.
// Every source file of the repository (tests, fixtures, README examples, the demo and its data,
// generated code and the spec itself aside) is searched for each entity under every name the
// repository gives it: the schema name, its plural and type name, its functions (`upsert<Plural>`,
// `upsertAll<Plural>`), its operationId, its path and its CLI name (as a string). A file naming
// three or more entities holds a list that a sixth endpoint would have to be added to by hand.
// (Three, not two: a hand-written file may name two entities as examples in its comments, and
// several do; none names three.)
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

/** A regular expression source matching the text literally. */
const literal = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** The CLI's name of an entity, as packages/cli/src/schema.ts `cliNameOf` makes it. */
function cliNameOf(entity: string, plural?: string): string {
  const kebab = (plural ?? entity).replace(/([a-z0-9])([A-Z])/g, "$1-$2").toLowerCase();
  return plural !== undefined || kebab.endsWith("s") ? kebab : `${kebab}s`;
}

const entities = findBatchOperations(spec);
/** Per entity, every way the repository names it. */
const patterns = entities.map((e) => ({
  entity: e.entity,
  res: [
    new RegExp(`\\b(${e.entity}|${e.plural}|${e.typeName})\\b`),
    new RegExp(`\\bupsert(All)?${e.plural}\\b`),
    new RegExp(`\\b${e.operationId}\\b`),
    // The path, its parameters written in any way (`{key}`, `:key`, `${key}`).
    new RegExp(
      e.path
        .split(/\{[^}]+\}/)
        .map(literal)
        .join("[^/\"'`\\s]+"),
    ),
    new RegExp(`(["'\`])${literal(cliNameOf(e.entity, e.plural))}\\1`),
  ],
}));

/** The entities a text names, under any of their names. */
function entitiesNamedIn(text: string): string[] {
  return patterns.filter((p) => p.res.some((re) => re.test(text))).map((p) => p.entity);
}

describe("the entities are listed only in the spec", () => {
  it("finds the spec's entities (the check is not vacuous)", () => {
    expect(entities.length).toBeGreaterThanOrEqual(5);
    const demo = readFileSync(join(root, "tools/demo/sample-data.ts"), "utf8");
    expect(entitiesNamedIn(demo).length).toBeGreaterThanOrEqual(3);
  });

  it.each([
    ["schema names", entities.map((e) => `"${e.entity}"`)],
    ["one-liners", entities.map((e) => `"upsertAll${e.plural}"`)],
    ["upsert functions", entities.map((e) => `upsert${e.plural},`)],
    ["operationIds", entities.map((e) => `"${e.operationId}"`)],
    ["paths", entities.map((e) => `"${e.path}"`)],
    ["routes", entities.map((e) => `"${e.path.replace(/\{([^}]+)\}/g, ":$1")}"`)],
    ["CLI names", entities.map((e) => `'${cliNameOf(e.entity, e.plural)}'`)],
  ])("sees a list of the entities' %s", (_, list) => {
    expect(entitiesNamedIn(`const list = [${list.join(", ")}];`)).toEqual(
      entities.map((e) => e.entity),
    );
  });

  it("no hand-written source names three or more of them", () => {
    const lists: string[] = [];
    let scanned = 0;
    for (const file of sources()) {
      scanned++;
      const named = entitiesNamedIn(readFileSync(join(root, file), "utf8"));
      if (named.length >= 3) lists.push(`${file}: ${named.join(", ")}`);
    }
    expect(scanned).toBeGreaterThan(100);
    expect(lists, "derive these from the spec (entityNames, the entity table, codegen)").toEqual(
      [],
    );
  });
});
