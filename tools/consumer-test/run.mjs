// The consumer test: what catches a broken exports map or a missing file before a user does.
// 1. publint and attw on every published package;
// 2. `pnpm pack` every published package;
// 3. two fresh projects outside the workspace (ESM with NodeNext, and CommonJS), the tarballs
//    installed with plain npm, program.ts type-checked with strict TypeScript and run against
//    the reference server.
import { execFileSync } from "node:child_process";
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const root = resolve(import.meta.dirname, "../..");
const run = (cmd, args, cwd) => {
  console.log(`$ ${cmd} ${args.join(" ")}   (in ${cwd})`);
  execFileSync(cmd, args, { cwd, stdio: "inherit" });
};

const packages = readdirSync(join(root, "packages"))
  .map((name) => join(root, "packages", name))
  .map((dir) => ({ dir, pkg: JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) }))
  .filter(({ pkg }) => !pkg.private);

const bin = (name) => join(root, "node_modules/.bin", name);
for (const { dir, pkg } of packages) {
  run(bin("publint"), ["--strict"], dir);
  // Subpaths that export data files (the spec as JSON/YAML) are not modules: attw checks the rest.
  const data = Object.keys(pkg.exports).filter((k) => /\.(json|ya?ml)$/.test(k));
  const exclude = data.length ? ["--exclude-entrypoints", ...data] : [];
  run(bin("attw"), ["--pack", ".", "--format", "table-flipped", ...exclude], dir);
}

const work = mkdtempSync(join(tmpdir(), "vbapi-consumer-"));
const tarballs = join(work, "tarballs");
mkdirSync(tarballs);
for (const { dir } of packages) run("pnpm", ["pack", "--pack-destination", tarballs], dir);
const files = readdirSync(tarballs);
const tarballOf = (name) => {
  const prefix = name.replace("@", "").replace("/", "-");
  const file = files.find(
    (f) => f.startsWith(`${prefix}-`) && /^\d/.test(f.slice(prefix.length + 1)),
  );
  if (!file) throw new Error(`no tarball for ${name} in ${files.join(", ")}`);
  return `file:${join(tarballs, file)}`;
};
const deps = Object.fromEntries(packages.map(({ pkg }) => [pkg.name, tarballOf(pkg.name)]));
const typescript = JSON.parse(
  readFileSync(join(root, "node_modules/typescript/package.json"), "utf8"),
).version;
const typesNode = JSON.parse(
  readFileSync(join(root, "node_modules/@types/node/package.json"), "utf8"),
).version;

for (const type of ["module", "commonjs"]) {
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
  run("npm", ["install", "--no-audit", "--no-fund", "--loglevel=error"], app);
  run("npx", ["tsc", "-p", "."], app);
  const out = readFileSync(join(app, "dist/index.js"), "utf8");
  const isCjs = out.includes("require(");
  if (isCjs !== (type === "commonjs"))
    throw new Error(`app-${type} compiled to the wrong module format`);
  run("node", ["dist/index.js"], app);
}
rmSync(work, { recursive: true, force: true });
console.log(
  `consumer test: ${packages.length} packages pass publint and attw, and install and run as ESM and CommonJS`,
);
