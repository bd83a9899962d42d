// The CLI behind the `vbapi-codegen` command (bin/vbapi-codegen.mjs runs it through tsx).
// Usage: vbapi-codegen --spec FILE --out DIR [--check] [--packages DIR] [--domain NAME]
// --check regenerates in memory and fails when the files in DIR are stale.
// --packages DIR: refuse an x-vbapi-package that names no domain package in DIR.
// --domain NAME: write domain package NAME's entry point instead of the client's files.
import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { isObject } from "@vbapi-sdk/tool-spec-model";
import { checkPackages, generate, generateDomain } from "./index.ts";

const { values } = parseArgs({
  options: {
    spec: { type: "string" },
    out: { type: "string" },
    check: { type: "boolean", default: false },
    packages: { type: "string" },
    domain: { type: "string" },
  },
});
if (!values.spec || !values.out) {
  console.error(
    "usage: vbapi-codegen --spec FILE --out DIR [--check] [--packages DIR] [--domain NAME]",
  );
  process.exit(2);
}
const out = resolve(values.out);
let files: Map<string, string>;
try {
  if (values.domain !== undefined || values.packages !== undefined) {
    const spec: unknown = JSON.parse(await readFile(resolve(values.spec), "utf8"));
    if (!isObject(spec)) throw new Error(`codegen: ${values.spec} is not an OpenAPI object`);
    if (values.packages !== undefined) checkPackages(spec, resolve(values.packages));
    files =
      values.domain !== undefined
        ? generateDomain(spec, values.domain)
        : await generate(resolve(values.spec));
  } else {
    files = await generate(resolve(values.spec));
  }
} catch (e) {
  // A spec the generator cannot read: say what and where, without a stack trace.
  const message = (e as Error).message;
  console.error(message.startsWith("codegen:") ? message : `codegen: ${message}`);
  process.exit(1);
}
if (values.check) {
  const stale: string[] = [];
  for (const [name, contents] of files) {
    const file = join(out, name);
    const current = existsSync(file) ? await readFile(file, "utf8") : undefined;
    if (current !== contents) stale.push(name);
  }
  if (stale.length > 0) {
    console.error(
      `codegen: ${stale.join(", ")} in ${out} are stale; run the generate script and commit the result`,
    );
    process.exit(1);
  }
  console.log(`codegen: ${files.size} generated files in ${out} are up to date`);
} else {
  await mkdir(out, { recursive: true });
  for (const [name, contents] of files) await writeFile(join(out, name), contents);
  console.log(`codegen: wrote ${[...files.keys()].join(", ")} to ${out}`);
}
