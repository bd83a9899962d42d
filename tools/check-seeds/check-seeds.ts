// `pnpm check:seeds`: fails on any difference between the bundled spec and VBA's endpoint
// descriptions (the seed files). The seeds live outside the repository (../shared/seeds beside the
// clone, as CI has them); without them the check is skipped with a message, unless required.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join, relative, resolve } from "node:path";
import { parseArgs } from "node:util";
import { SpecError } from "@vbapi-sdk/tool-spec-model";
import { compareSeed, unseededOperations } from "./compare.ts";
import { readSeeds, seedFacts } from "./seeds.ts";

const USAGE = `Usage: check-seeds [--seeds DIR] [--spec FILE] [--require-seeds] [--write-facts FILE]
  --seeds          the seed folder (default: $VBAPI_SEEDS_DIR, else ../shared/seeds beside the repository)
  --spec           the bundled spec (default: @vbapi-sdk/openapi's dist/openapi.json, from \`pnpm build\`)
  --require-seeds  fail (exit 2) instead of skipping when the seed folder is absent
  --write-facts    write the seeds' facts (fields, types, required-ness) to FILE and exit; see
                   tools/check-seeds/test/fixtures/README.md
Exit codes: 0 no difference (or skipped: no seeds), 1 differences, 2 usage or input error.`;

const repo = resolve(import.meta.dirname, "../..");
let values: {
  seeds?: string;
  spec?: string;
  "require-seeds"?: boolean;
  "write-facts"?: string;
  help?: boolean;
};
try {
  ({ values } = parseArgs({
    options: {
      seeds: { type: "string" },
      spec: { type: "string" },
      "require-seeds": { type: "boolean" },
      "write-facts": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  }));
} catch (e) {
  console.error(`check:seeds: ${(e as Error).message}\n${USAGE}`);
  process.exit(2);
}
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const seedsDir = resolve(
  values.seeds ?? process.env.VBAPI_SEEDS_DIR ?? join(repo, "../shared/seeds"),
);

if (!existsSync(seedsDir)) {
  // Asked for explicitly (a folder, facts to write, or --require-seeds): a missing folder is an error.
  if (values.seeds || values["write-facts"] || values["require-seeds"]) {
    console.error(`check:seeds: no seed folder at ${seedsDir}`);
    process.exit(2);
  }
  console.log(
    `check:seeds: skipped: no seed folder at ${seedsDir}. VBA's endpoint descriptions are not part of the repository; CI has them beside the clone. Point --seeds or VBAPI_SEEDS_DIR at them to run the check (the unit tests use the committed facts in tools/check-seeds/test/fixtures).`,
  );
  process.exit(0);
}
const seeds = readSeeds(seedsDir);
if (seeds.length === 0) {
  console.error(`check:seeds: ${seedsDir} holds no .txt seed files`);
  process.exit(2);
}
if (values["write-facts"]) {
  const out = resolve(values["write-facts"]);
  const facts = {
    $comment:
      "Facts of VBA's seed files (fields, types, required-ness), derived by `check-seeds --write-facts`; see README.md beside this file.",
    endpoints: seeds.map(seedFacts),
  };
  writeFileSync(out, `${JSON.stringify(facts, null, 2)}\n`);
  console.log(`check:seeds: wrote the facts of ${seeds.length} seeds to ${relative(repo, out)}`);
  process.exit(0);
}

const specFile = values.spec
  ? resolve(values.spec)
  : createRequire(join(import.meta.dirname, "package.json")).resolve(
      "@vbapi-sdk/openapi/openapi.json",
    );
if (!existsSync(specFile)) {
  console.error(`check:seeds: no bundled spec at ${specFile}: run \`pnpm build\` first`);
  process.exit(2);
}
const spec = JSON.parse(readFileSync(specFile, "utf8"));
let diffs: string[];
try {
  diffs = [...seeds.flatMap((s) => compareSeed(spec, s)), ...unseededOperations(spec, seeds)];
} catch (e) {
  if (!(e instanceof SpecError)) throw e;
  console.error(`check:seeds: cannot read ${specFile}: ${e.message}`);
  process.exit(2);
}
for (const d of diffs) console.error(`✗ ${d}`);
if (diffs.length) {
  console.error(`check:seeds: ${diffs.length} difference(s) between ${specFile} and ${seedsDir}`);
  process.exit(1);
}
const fields = seeds.reduce((n, s) => n + s.requestFields.length + s.responseFields.length, 0);
console.log(`check:seeds: ${seeds.length} endpoints and ${fields} fields match the seeds`);
