// `pnpm check:generators`: runs every generator of matrix.mjs over its bundle, then compiles what
// it emitted together with a typed program written from the spec, with strict tsc. Prints each
// tool's own output when it fails. Exit 0 all passed, 1 a generator or the compiler failed,
// 2 usage or input error.
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { parseArgs } from "node:util";
import { GENERATORS, operationsOf, program, TSCONFIG } from "./matrix.mjs";

const here = import.meta.dirname;
const dist = resolve(here, "../../packages/openapi/dist");
const USAGE = `Usage: generator-matrix [--spec31 FILE] [--spec30 FILE] [--out DIR] [--only NAME]...
  --spec31  the 3.1 bundle (default packages/openapi/dist/openapi.json, from \`pnpm build\`)
  --spec30  the 3.0 bundle (default packages/openapi/dist/openapi.3.0.json)
  --out     where generated code goes (default tools/generator-matrix/out, gitignored)
  --only    run only this generator (repeatable): ${GENERATORS.map((g) => g.name).join(", ")}`;

let values;
try {
  ({ values } = parseArgs({
    options: {
      spec31: { type: "string", default: join(dist, "openapi.json") },
      spec30: { type: "string", default: join(dist, "openapi.3.0.json") },
      out: { type: "string", default: join(here, "out") },
      only: { type: "string", multiple: true },
      help: { type: "boolean", short: "h", default: false },
    },
  }));
} catch (e) {
  console.error(`generator-matrix: ${e.message}\n${USAGE}`);
  process.exit(2);
}
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const unknown = (values.only ?? []).filter((n) => !GENERATORS.some((g) => g.name === n));
if (unknown.length) {
  console.error(`generator-matrix: unknown generator ${unknown.join(", ")}\n${USAGE}`);
  process.exit(2);
}
const specs = { 3.1: resolve(values.spec31), "3.0": resolve(values.spec30) };
const docs = {};
for (const [v, file] of Object.entries(specs)) {
  if (!existsSync(file)) {
    console.error(`generator-matrix: no ${v} bundle at ${file}: run \`pnpm build\` first`);
    process.exit(2);
  }
  try {
    docs[v] = JSON.parse(readFileSync(file, "utf8"));
  } catch (e) {
    console.error(`generator-matrix: ${file} is not JSON: ${e.message}`);
    process.exit(2);
  }
}

const bin = (name) => join(here, "node_modules/.bin", name);
const version = (name) =>
  JSON.parse(readFileSync(join(here, "node_modules", name, "package.json"), "utf8")).version;
/** Runs a command, resolving with its exit code and everything it printed. */
const exec = (cmd, args, cwd) =>
  new Promise((done) => {
    const child = spawn(cmd, args, {
      cwd,
      env: { ...process.env, NO_COLOR: "1", FORCE_COLOR: "0" },
    });
    let output = "";
    child.stdout.on("data", (d) => (output += d));
    child.stderr.on("data", (d) => (output += d));
    child.on("error", (e) => done({ code: -1, output: `${output}${e.message}` }));
    child.on("close", (code) => done({ code, output }));
  });

const out = resolve(values.out);
// Generated code imports its runtime (e.g. @oazapfts/runtime): an --out elsewhere finds ours.
mkdirSync(out, { recursive: true });
if (relative(here, out).startsWith("..") && !existsSync(join(out, "node_modules")))
  symlinkSync(join(here, "node_modules"), join(out, "node_modules"), "dir");
const chosen = GENERATORS.filter((g) => !values.only || values.only.includes(g.name));
const started = Date.now();

async function check(gen) {
  const dir = join(
    out,
    gen.name.replace(/[@/]/g, (c) => (c === "@" ? "" : "__")),
  );
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, "gen"), { recursive: true });
  const label = `${gen.name}@${version(gen.name)} (OpenAPI ${gen.spec})`;
  const t0 = Date.now();
  const generated = await exec(bin(gen.bin), gen.args(specs[gen.spec], join(dir, "gen")), dir);
  if (generated.code !== 0)
    return { label, ok: false, stage: "generate", output: generated.output, ms: Date.now() - t0 };
  let source;
  try {
    source = program(gen, operationsOf(docs[gen.spec]));
  } catch (e) {
    return { label, ok: false, stage: "program", output: e.message, ms: Date.now() - t0 };
  }
  writeFileSync(join(dir, "check.ts"), source);
  writeFileSync(join(dir, "tsconfig.json"), `${JSON.stringify(TSCONFIG, null, 2)}\n`);
  const compiled = await exec(bin("tsc"), ["-p", "."], dir);
  const output = compiled.output.replaceAll(`${dir}/`, "");
  return { label, ok: compiled.code === 0, stage: "tsc", output, ms: Date.now() - t0, dir };
}

// Generators run together (they are mostly waiting on I/O); compilers too, two at a time.
const results = [];
for (let i = 0; i < chosen.length; i += 2)
  results.push(...(await Promise.all(chosen.slice(i, i + 2).map(check))));

for (const r of results) {
  const time = `${(r.ms / 1000).toFixed(1)} s`;
  if (r.ok) console.log(`ok    ${r.label}: generated, compiled with strict tsc (${time})`);
  else {
    console.log(`FAIL  ${r.label}: ${r.stage} failed (${time})`);
    console.log(r.output.trim().replace(/^/gm, "      "));
  }
}
const failed = results.filter((r) => !r.ok);
console.log(
  `generator-matrix: ${results.length - failed.length}/${results.length} generators passed in ${((Date.now() - started) / 1000).toFixed(1)} s; output in ${relative(process.cwd(), out).startsWith("..") ? out : relative(process.cwd(), out) || "."}`,
);
process.exit(failed.length ? 1 : 0);
