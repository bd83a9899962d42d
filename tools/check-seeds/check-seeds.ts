// `pnpm check:seeds`: fails on any difference between the bundled spec and the seed files.
// Usage: check-seeds [--seeds DIR] [--spec FILE]   (defaults: ../shared/seeds, the bundle)
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { compareSeed, unseededOperations } from "./compare.ts";
import { parseSeed } from "./seeds.ts";

const repo = resolve(import.meta.dirname, "../..");
const { values } = parseArgs({
  options: { seeds: { type: "string" }, spec: { type: "string" } },
});
const seedsDir = resolve(
  values.seeds ?? process.env.VBAPI_SEEDS_DIR ?? join(repo, "../shared/seeds"),
);
const specFile = values.spec
  ? resolve(values.spec)
  : createRequire(join(import.meta.dirname, "package.json")).resolve(
      "@vbapi-sdk/openapi/openapi.json",
    );

if (!existsSync(seedsDir)) {
  console.error(`check:seeds: no seed folder at ${seedsDir} (pass --seeds DIR)`);
  process.exit(2);
}
if (!existsSync(specFile)) {
  console.error(`check:seeds: no bundled spec at ${specFile}: run \`pnpm build\` first`);
  process.exit(2);
}
const spec = JSON.parse(readFileSync(specFile, "utf8"));
const files = readdirSync(seedsDir)
  .filter((f) => f.endsWith(".txt"))
  .sort();
if (files.length === 0) {
  console.error(`check:seeds: ${seedsDir} holds no .txt seed files`);
  process.exit(2);
}
const seeds = files.map((f) => parseSeed(readFileSync(join(seedsDir, f), "utf8"), f));
const diffs = [...seeds.flatMap((s) => compareSeed(spec, s)), ...unseededOperations(spec, seeds)];
for (const d of diffs) console.error(`✗ ${d}`);
if (diffs.length) {
  console.error(`check:seeds: ${diffs.length} difference(s) between ${specFile} and ${seedsDir}`);
  process.exit(1);
}
const fields = seeds.reduce((n, s) => n + s.requestFields.length + s.responseFields.length, 0);
console.log(`check:seeds: ${seeds.length} endpoints and ${fields} fields match the seeds`);
