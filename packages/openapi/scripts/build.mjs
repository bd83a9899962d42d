// Bundles the split spec in ../../openapi into dist/: YAML, JSON, a dereferenced JSON for
// generators that cannot follow $refs, and the HTML reference. Any failure exits non-zero.
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const pkg = fileURLToPath(new URL("..", import.meta.url));
const root = "../../openapi/openapi.yaml";
const redocly = (...args) =>
  execFileSync("redocly", args, { cwd: pkg, stdio: ["ignore", "ignore", "inherit"], shell: false });

rmSync(`${pkg}/dist`, { recursive: true, force: true });
mkdirSync(`${pkg}/dist`);
redocly("bundle", root, "--output", "dist/openapi.yaml");
redocly("bundle", root, "--output", "dist/openapi.json", "--ext", "json");
redocly(
  "bundle",
  root,
  "--dereferenced",
  "--output",
  "dist/openapi.dereferenced.json",
  "--ext",
  "json",
);
redocly(
  "build-docs",
  "dist/openapi.yaml",
  "--output",
  "dist/index.html",
  "--inlineBundle",
  "--title",
  "VBAPI batch endpoints: API reference",
);

for (const f of ["openapi.yaml", "openapi.json", "openapi.dereferenced.json", "index.html"]) {
  if (statSync(`${pkg}/dist/${f}`).size === 0) throw new Error(`dist/${f} is empty`);
}
JSON.parse(readFileSync(`${pkg}/dist/openapi.dereferenced.json`, "utf8"));
console.log("bundled openapi.{yaml,json}, openapi.dereferenced.json and index.html into dist/");

// A JS entry for consumers who want the document as an object: ESM and CJS, typed.
const json = readFileSync(`${pkg}/dist/openapi.json`, "utf8");
const types = `/** The bundled OpenAPI 3.1 description of VBA's Create or Update Batch endpoints. */
export interface OpenApiDocument {
  openapi: string;
  info: { title: string; version: string; [key: string]: unknown };
  paths: Record<string, Record<string, unknown>>;
  components: Record<string, Record<string, unknown>>;
  [key: string]: unknown;
}
`;
writeFileSync(`${pkg}/dist/index.mjs`, `const spec = ${json};\nexport default spec;\n`);
writeFileSync(
  `${pkg}/dist/index.cjs`,
  `"use strict";\nconst spec = ${json};\nmodule.exports = spec;\n`,
);
writeFileSync(
  `${pkg}/dist/index.d.mts`,
  `${types}declare const spec: OpenApiDocument;\nexport default spec;\n`,
);
writeFileSync(
  `${pkg}/dist/index.d.cts`,
  `declare namespace spec {\n${types.replace(/^/gm, "  ").replace("export interface", "interface")}}\ndeclare const spec: spec.OpenApiDocument;\nexport = spec;\n`,
);
console.log("wrote the JS entry dist/index.{mjs,cjs} with its types");
