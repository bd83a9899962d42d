// Bundles the split spec in ../../openapi into dist/ and derives every artifact from it:
//   openapi.{yaml,json}            the 3.1 bundle, with x-codeSamples (SDK one-liner and curl)
//   openapi.dereferenced.json      the same with every $ref inlined
//   openapi.3.0.{json,yaml}        the 3.0.3 down-conversion, checked: same meaning, Redocly-valid
//   vbapi.postman_collection.json  a Postman collection from the 3.0 bundle
//   index.html                     the HTML reference (Redoc), showing the code samples
//   index.{mjs,cjs,d.mts,d.cts}    the 3.1 document as a JS module
// It also runs the strict lint of the split spec (the rules of `pnpm lint:spec`). Steps that do
// not need each other run at the same time. Any failure exits non-zero with the reason.
//
// Options (for building another copy of the spec, as the sixth-endpoint test does):
//   --spec FILE    the root of the split spec (default ../../openapi/openapi.yaml)
//   --out DIR      where to write (default dist/)
//   --config FILE  the Redocly config (default ../../redocly.yaml)
//   --no-docs      skip the HTML reference
import { spawn } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { stringify } from "yaml";
import { addCodeSamples } from "./code-samples.mjs";
import { toOpenApi30 } from "./down-convert.mjs";
import { meaningDiff } from "./meaning.mjs";
import { toPostman } from "./postman.mjs";

const pkg = fileURLToPath(new URL("..", import.meta.url));
const { values: opts } = parseArgs({
  options: {
    spec: { type: "string", default: resolve(pkg, "../../openapi/openapi.yaml") },
    out: { type: "string", default: resolve(pkg, "dist") },
    config: { type: "string", default: resolve(pkg, "../../redocly.yaml") },
    "no-docs": { type: "boolean", default: false },
  },
});
const root = resolve(opts.spec);
const out = resolve(opts.out);
const config = resolve(opts.config);
/** Runs the Redocly CLI; resolves when it exits 0. Independent steps run at the same time. */
const redocly = (...args) =>
  new Promise((done, failed) => {
    const child = spawn("redocly", args, { cwd: pkg, stdio: ["ignore", "ignore", "inherit"] });
    child.on("error", failed);
    child.on("close", (code) =>
      code === 0 ? done() : failed(new Error(`redocly ${args.join(" ")}: exit code ${code}`)),
    );
  });
const readJson = (f) => JSON.parse(readFileSync(`${out}/${f}`, "utf8"));
const writeJson = (f, doc) => writeFileSync(`${out}/${f}`, `${JSON.stringify(doc, null, 2)}\n`);
const writeYaml = (f, doc) =>
  writeFileSync(`${out}/${f}`, stringify(doc, { lineWidth: 0, aliasDuplicateObjects: false }));

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
// The strict lint of the split spec (what `pnpm lint:spec` runs) goes alongside the bundling.
const lint = redocly("lint", root, "--config", config);
lint.catch(() => {}); // awaited below; a failure stops the build there
await Promise.all([
  redocly("bundle", root, "--output", `${out}/openapi.json`, "--ext", "json"),
  redocly(
    "bundle",
    root,
    "--dereferenced",
    "--output",
    `${out}/openapi.dereferenced.json`,
    "--ext",
    "json",
  ),
]);

// Code samples, table-driven from the spec, into both 3.1 bundles.
const spec = readJson("openapi.json");
for (const note of addCodeSamples(spec)) console.log(`x-codeSamples: ${note}`);
writeJson("openapi.json", spec);
writeYaml("openapi.yaml", spec);
const dereferenced = readJson("openapi.dereferenced.json");
addCodeSamples(dereferenced);
writeJson("openapi.dereferenced.json", dereferenced);

// The 3.0 bundle: converted, then proved to mean the same and to be valid 3.0.
const spec30 = toOpenApi30(spec);
const lost = meaningDiff(spec, spec30);
if (lost.length)
  throw new Error(
    `openapi.3.0: the down-conversion changed ${lost.length} constraint(s) (3.1 → 3.0):\n  ${lost.join("\n  ")}`,
  );
writeJson("openapi.3.0.json", spec30);
writeYaml("openapi.3.0.yaml", spec30);

await Promise.all([
  lint,
  redocly("lint", `${out}/openapi.3.0.json`, `${out}/openapi.3.0.yaml`, "--config", config),
  toPostman(spec30).then((collection) => writeJson("vbapi.postman_collection.json", collection)),
  opts["no-docs"] ||
    redocly(
      "build-docs",
      `${out}/openapi.yaml`,
      "--output",
      `${out}/index.html`,
      "--inlineBundle",
      "--title",
      "VBAPI batch endpoints: API reference",
    ),
]);

const artifacts = [
  "openapi.yaml",
  "openapi.json",
  "openapi.dereferenced.json",
  "openapi.3.0.json",
  "openapi.3.0.yaml",
  "vbapi.postman_collection.json",
  ...(opts["no-docs"] ? [] : ["index.html"]),
];
for (const f of artifacts) {
  if (statSync(`${out}/${f}`).size === 0) throw new Error(`${out}/${f} is empty`);
}
console.log(`built ${artifacts.join(", ")} into ${out}`);

// A JS entry for consumers who want the document as an object: ESM and CJS, typed.
const json = readFileSync(`${out}/openapi.json`, "utf8");
const types = `/** The bundled OpenAPI 3.1 description of VBA's Create or Update Batch endpoints. */
export interface OpenApiDocument {
  openapi: string;
  info: { title: string; version: string; [key: string]: unknown };
  paths: Record<string, Record<string, unknown>>;
  components: Record<string, Record<string, unknown>>;
  [key: string]: unknown;
}
`;
writeFileSync(`${out}/index.mjs`, `const spec = ${json};\nexport default spec;\n`);
writeFileSync(`${out}/index.cjs`, `"use strict";\nconst spec = ${json};\nmodule.exports = spec;\n`);
writeFileSync(
  `${out}/index.d.mts`,
  `${types}declare const spec: OpenApiDocument;\nexport default spec;\n`,
);
writeFileSync(
  `${out}/index.d.cts`,
  `declare namespace spec {\n${types.replace(/^/gm, "  ").replace("export interface", "interface")}}\ndeclare const spec: spec.OpenApiDocument;\nexport = spec;\n`,
);
console.log("wrote the JS entry dist/index.{mjs,cjs} with its types");
