// The consumer test: what catches a broken exports map or a missing file before a user does.
// 1. `pnpm pack` every published package;
// 2. publint and attw on each tarball (the files a user installs; attw no longer packs again);
// 3. two fresh projects outside the workspace (ESM with NodeNext, and CommonJS), the tarballs
//    installed with plain npm, program.ts type-checked with strict TypeScript and run against
//    the reference server;
// 4. the spec package's artifacts read from the installed tarball through its exports map: the
//    3.0 bundle, the Postman collection, and the SDK code samples of the 3.1 bundle compiled
//    (strict) in the ESM project against the installed domain packages.
// Independent steps run two at a time, each command's output printed together when it ends.
import { execFile } from "node:child_process";
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parse } from "yaml";

const root = resolve(import.meta.dirname, "../..");
/** Runs a command, its output kept together and printed when it ends; rejects on failure. */
const runQuietly = (cmd, args, cwd) =>
  new Promise((resolve, reject) => {
    execFile(cmd, args, { cwd, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      console.log(`$ ${cmd} ${args.join(" ")}   (in ${cwd})\n${stdout}${stderr}`);
      if (error) reject(new Error(`${cmd} ${args[0] ?? ""} failed in ${cwd} (output above)`));
      else resolve();
    });
  });
/**
 * Runs the tasks two at a time (this is a 2-core machine). Every task runs and prints its output;
 * then, if any failed, this throws naming each failure.
 */
async function twoAtATime(tasks) {
  let next = 0;
  const failures = [];
  const lane = async () => {
    while (next < tasks.length) await tasks[next++]().catch((error) => failures.push(error));
  };
  await Promise.all([lane(), lane()]);
  if (failures.length > 0) throw new Error(failures.map((e) => e.message).join("\n"));
}

const packages = readdirSync(join(root, "packages"))
  .map((name) => join(root, "packages", name))
  .map((dir) => ({ dir, pkg: JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) }))
  .filter(({ pkg }) => !pkg.private);

const work = mkdtempSync(join(tmpdir(), "vbapi-consumer-"));
const tarballs = join(work, "tarballs");
mkdirSync(tarballs);
// Packed once: publint and attw read the same tarballs the two projects install.
await twoAtATime(
  packages.map(
    ({ dir }) =>
      () =>
        runQuietly("pnpm", ["pack", "--pack-destination", tarballs], dir),
  ),
);
const files = readdirSync(tarballs);
const tarballPath = (name) => {
  const prefix = name.replace("@", "").replace("/", "-");
  const file = files.find(
    (f) => f.startsWith(`${prefix}-`) && /^\d/.test(f.slice(prefix.length + 1)),
  );
  if (!file) throw new Error(`no tarball for ${name} in ${files.join(", ")}`);
  return join(tarballs, file);
};
const tarballOf = (name) => `file:${tarballPath(name)}`;

const bin = (name) => join(root, "node_modules/.bin", name);
await twoAtATime(
  packages.flatMap(({ dir, pkg }) => {
    // Subpaths that export data files (the spec as JSON/YAML) are not modules: attw checks the rest.
    const data = Object.keys(pkg.exports).filter((k) => /\.(json|ya?ml)$/.test(k));
    const exclude = data.length ? ["--exclude-entrypoints", ...data] : [];
    const tgz = tarballPath(pkg.name);
    return [
      () => runQuietly(bin("publint"), ["run", tgz, "--strict"], dir),
      () => runQuietly(bin("attw"), [tgz, "--format", "table-flipped", ...exclude], dir),
    ];
  }),
);

const deps = Object.fromEntries(packages.map(({ pkg }) => [pkg.name, tarballOf(pkg.name)]));
const typescript = JSON.parse(
  readFileSync(join(root, "node_modules/typescript/package.json"), "utf8"),
).version;
const typesNode = JSON.parse(
  readFileSync(join(root, "node_modules/@types/node/package.json"), "utf8"),
).version;

/** One fresh project of this module type: install the tarballs, type-check, run. */
async function consumer(type) {
  const app = join(work, `app-${type}`);
  mkdirSync(join(app, "src"), { recursive: true });
  writeFileSync(
    join(app, "package.json"),
    JSON.stringify(
      {
        name: `vbapi-consumer-${type}`,
        private: true,
        type,
        dependencies: deps,
        devDependencies: { typescript, "@types/node": typesNode },
        overrides: deps,
      },
      null,
      2,
    ),
  );
  writeFileSync(
    join(app, "tsconfig.json"),
    JSON.stringify({
      compilerOptions: {
        target: "ES2022",
        module: "NodeNext",
        moduleResolution: "NodeNext",
        strict: true,
        noUncheckedIndexedAccess: true,
        outDir: "dist",
        types: ["node"],
      },
      include: ["src"],
    }),
  );
  cpSync(join(import.meta.dirname, "program.ts"), join(app, "src/index.ts"));
  await runQuietly("npm", ["install", "--no-audit", "--no-fund", "--loglevel=error"], app);
  if (type === "module") checkSpecArtifacts(app);
  await runQuietly(
    process.execPath,
    [join(app, "node_modules/typescript/bin/tsc"), "-p", "."],
    app,
  );
  const out = readFileSync(join(app, "dist/index.js"), "utf8");
  const isCjs = out.includes("require(");
  if (isCjs !== (type === "commonjs"))
    throw new Error(`app-${type} compiled to the wrong module format`);
  await runQuietly(process.execPath, ["dist/index.js"], app);
}
// The two projects side by side (each mostly waits on npm and the reference server).
await twoAtATime([() => consumer("module"), () => consumer("commonjs")]);

rmSync(work, { recursive: true, force: true });

/** The spec package's artifacts, as a consumer gets them: resolved through its exports map. */
function checkSpecArtifacts(app) {
  const resolveIn = createRequire(join(app, "package.json")).resolve;
  const read = (sub) => readFileSync(resolveIn(`@vbapi-sdk/openapi/${sub}`), "utf8");
  const spec = JSON.parse(read("openapi.json"));
  const spec30 = JSON.parse(read("openapi.3.0.json"));
  const fail = (what) => {
    throw new Error(`@vbapi-sdk/openapi tarball: ${what}`);
  };
  const operations = (doc) =>
    Object.entries(doc.paths).flatMap(([path, item]) =>
      Object.keys(item).map((method) => `${method.toUpperCase()} ${path}`),
    );
  if (spec30.openapi !== "3.0.3") fail(`openapi.3.0.json says openapi ${spec30.openapi}`);
  if (operations(spec30).join() !== operations(spec).join())
    fail("openapi.3.0.json does not have the operations of openapi.json");
  if (JSON.stringify(parse(read("openapi.3.0.yaml"))) !== JSON.stringify(spec30))
    fail("openapi.3.0.yaml and openapi.3.0.json differ");
  const collection = JSON.parse(read("vbapi.postman_collection.json"));
  const requests = (items) => items.flatMap((i) => (i.item ? requests(i.item) : [i]));
  if (requests(collection.item).length !== operations(spec).length)
    fail("the Postman collection does not have one request per operation");
  const secrets = collection.variable.filter((v) => v.key !== "baseUrl" && v.value !== "");
  if (secrets.length) fail(`Postman variables ${secrets.map((v) => v.key)} carry values`);
  // The SDK samples of the HTML reference, compiled as a user would paste them.
  mkdirSync(join(app, "src/samples"));
  let samples = 0;
  for (const item of Object.values(spec.paths))
    for (const op of Object.values(item))
      for (const s of op["x-codeSamples"] ?? [])
        if (s.lang === "TypeScript") {
          writeFileSync(join(app, "src/samples", `${op.operationId}.ts`), s.source);
          samples++;
        }
  if (samples < 5) fail(`only ${samples} SDK code samples in openapi.json`);
  console.log(
    `spec artifacts ok: openapi.3.0.{json,yaml}, ${requests(collection.item).length} Postman requests, ${samples} SDK samples to compile`,
  );
}
console.log(
  `consumer test: ${packages.length} packages pass publint and attw, and install and run as ESM and CommonJS; the spec artifacts and SDK code samples check out`,
);
