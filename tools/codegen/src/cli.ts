// The CLI behind the `vbapi-codegen` command (bin/vbapi-codegen.mjs runs it through tsx).
// Usage: vbapi-codegen --spec FILE --out DIR [--check]
// --check regenerates in memory and fails when the files in DIR are stale.
import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { generate } from "./index.ts";

const { values } = parseArgs({
  options: {
    spec: { type: "string" },
    out: { type: "string" },
    check: { type: "boolean", default: false },
  },
});
if (!values.spec || !values.out) {
  console.error("usage: vbapi-codegen --spec FILE --out DIR [--check]");
  process.exit(2);
}
const out = resolve(values.out);
let files: Map<string, string>;
try {
  files = await generate(resolve(values.spec));
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
