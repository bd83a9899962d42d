#!/usr/bin/env node
// The `vbapi-build` command: builds the package in the current folder into dist/ (README.md), the
// files unbuild made, in less time.
//   vbapi-build [--inline PKG]... ENTRY...
// ENTRY is `src/index` (dist/index.*) or `NAME=FILE` (dist/NAME.*), each with ESM (.mjs), CommonJS
// (.cjs) and bundled types (.d.mts, .d.cts, .d.ts). Dependencies and peer dependencies stay
// imports; --inline PKG puts a package's code into dist; importing any other package fails the
// build, naming it.
import { existsSync } from "node:fs";
import { chmod, copyFile, mkdir, readdir, readFile, realpath, rm } from "node:fs/promises";
import { builtinModules } from "node:module";
import { dirname, extname, join, relative, resolve, sep } from "node:path";
import { parseArgs } from "node:util";
import json from "@rollup/plugin-json";
import { nodeResolve } from "@rollup/plugin-node-resolve";
import { transform } from "esbuild";
import { rollup } from "rollup";
import { dts } from "rollup-plugin-dts";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    inline: { type: "string", multiple: true, default: [] },
  },
});
const fail = (message) => {
  console.error(`vbapi-build: ${message}`);
  process.exit(1);
};
/** `NAME=FILE` or `src/NAME` → [NAME, absolute FILE.ts]. */
const entry = (arg) => {
  const [name, file] = arg.includes("=") ? arg.split("=", 2) : [arg.replace(/^src\//, ""), arg];
  if (!name || !file) fail(`${arg}: an entry is src/NAME or NAME=FILE`);
  return [name, resolve(file.endsWith(".ts") ? file : `${file}.ts`)];
};
const entries = Object.fromEntries(positionals.map(entry));
if (positionals.length === 0)
  fail("no entry given (usage: vbapi-build [--inline PKG]... ENTRY...)");
for (const file of Object.values(entries))
  if (!existsSync(file)) fail(`entry ${file} does not exist`);

const pkg = JSON.parse(await readFile("package.json", "utf8"));
const out = resolve("dist");
const shortName = pkg.name.replace(/^@[^/]+\//, "");
const external = new Set([
  ...Object.keys({ ...pkg.dependencies, ...pkg.peerDependencies }),
  ...builtinModules,
  ...builtinModules.map((m) => `node:${m}`),
]);
/** The package an import names (`@scope/name/sub` → `@scope/name`), or null for a path. */
const packageOf = (id) =>
  /^[./]|^[A-Za-z]:/.test(id) ? null : id.split("/", id.startsWith("@") ? 2 : 1).join("/");
/**
 * true: keep the import; false: put the code into dist; fails on a package not declared. An
 * --inline package that is also a dependency is put into the JavaScript but stays an import in
 * the types (`types`): its declarations come from the package, installed beside ours.
 */
const isExternal = (id, importer, types = false) => {
  const name = packageOf(id);
  if (name === null || /\bsrc[/\\]/.test(id)) return false;
  if (!types && values.inline.includes(name)) return false;
  if (external.has(name) || external.has(id)) return true;
  if (values.inline.includes(name)) return false;
  return fail(
    `${importer ?? "an entry"} imports ${id}: add ${name} to dependencies, or pass --inline ${name}`,
  );
};

/**
 * The JavaScript: one rollup build, written as ESM and CommonJS with unbuild's output options and
 * plugins (so the files are the same): TypeScript through esbuild's transform, JSON imports,
 * Node resolution for --inline packages. Code shared by entries goes to shared/, a module
 * loaded with import() to chunks/. unbuild's CommonJS plugin is left out (it changed nothing here
 * and costs half a second): an --inline package must be ESM, or rollup stops on its imports.
 */
async function buildJs() {
  const bundle = await rollup({
    input: entries,
    external: (id, importer) => isExternal(id, importer),
    plugins: [
      nodeResolve({
        extensions: EXTENSIONS,
        exportConditions: ["production"],
        preferBuiltins: true,
      }),
      json({ preferConst: true }),
      {
        name: "esbuild",
        async transform(code, id) {
          const loader = LOADERS[extname(id)];
          if (!loader || /node_modules/.test(id)) return null;
          const result = await transform(code, { target: "esnext", loader, sourcefile: id });
          for (const w of result.warnings) this.warn(`${id}: ${w.text}`);
          return { code: result.code, map: null };
        },
      },
      // import() stays import() in CommonJS too (unbuild's preserveDynamicImports).
      { name: "dynamic-import", renderDynamicImport: () => ({ left: "import(", right: ")" }) },
    ],
    onwarn,
  });
  const chunkFileNames = (ext) => (chunk) =>
    chunk.isDynamicEntry ? `chunks/[name].${ext}` : `shared/${shortName}.[hash].${ext}`;
  const common = {
    dir: out,
    exports: "auto",
    generatedCode: { constBindings: true },
    externalLiveBindings: false,
    freeze: false,
    importAttributesKey: "with",
  };
  for (const [format, ext, extra] of [
    ["cjs", "cjs", { interop: "compat" }],
    ["esm", "mjs", {}],
  ]) {
    const { output } = await bundle.write({
      ...common,
      ...extra,
      format,
      entryFileNames: `[name].${ext}`,
      chunkFileNames: chunkFileNames(ext),
    });
    for (const chunk of output)
      if (chunk.type === "chunk" && chunk.code.startsWith("#!"))
        await chmod(join(out, chunk.fileName), 0o755);
  }
  await bundle.close();
}

const EXTENSIONS = [".ts", ".mts", ".cts", ".mjs", ".cjs", ".js", ".json"];
const LOADERS = {
  ".ts": "ts",
  ".mts": "ts",
  ".cts": "ts",
  ".js": "js",
  ".mjs": "js",
  ".cjs": "js",
};
function onwarn(warning, warn) {
  // An --inline package's TypeScript helpers (`this && this.__read || ...`) at the top of an ES
  // module: `this` is undefined there in Node as well, so rewriting it changes nothing.
  if (warning.code === "THIS_IS_UNDEFINED" && /node_modules/.test(warning.id ?? "")) return;
  // Type-only imports that the bundled declarations drop are not a problem.
  if (!["CIRCULAR_DEPENDENCY", "UNUSED_EXTERNAL_IMPORT", "EMPTY_BUNDLE"].includes(warning.code))
    warn(warning);
}

/**
 * One rollup-plugin-dts bundle of the entries' declarations, written as .d.cts, .d.mts, .d.ts.
 * When every source file the entries reach declares its exported types (TypeScript's
 * isolatedDeclarations: no diagnostics from ts.transpileDeclaration), the declarations are made
 * file by file, without a type-checked program (what takes the time); otherwise the plugin builds
 * them from the program. Either way tsc would emit the same declarations.
 */
async function buildTypes() {
  const { isolated, reason } = await isolatedDeclarations(Object.values(entries));
  const bundle = await rollup({
    input: isolated ? mapValues(entries, toDts) : entries,
    // (an error names the source file, not its declarations)
    external: (id, importer) => isExternal(id, importer?.replace(/\.d\.ts$/, ".ts"), true),
    plugins: [
      isolated && {
        name: "isolated-declarations",
        resolveId: (id, importer) => {
          if (isolated.has(id)) return id; // an entry
          const file = importer && /^\.\.?\//.test(id) ? localFile(dirname(importer), id) : null;
          return file && isolated.has(toDts(file)) ? toDts(file) : null;
        },
        load: (id) => isolated.get(id) ?? null,
      },
      dts({
        compilerOptions: { preserveSymlinks: false, composite: false },
        respectExternal: true,
      }),
      // A bin's hashbang has no place in its types (as unbuild did: the file is left empty).
      { name: "no-hashbang", renderChunk: (code) => code.replace(/^#!.*/, "") },
    ],
    onwarn,
  });
  for (const ext of ["d.cts", "d.mts", "d.ts"]) {
    await bundle.write({
      dir: out,
      entryFileNames: `[name].${ext}`,
      chunkFileNames: `shared/${shortName}.[hash].${ext}`,
    });
  }
  await bundle.close();
  console.log(
    `vbapi-build: types ${isolated ? "file by file (isolated declarations)" : `from the program (slower), because ${reason}`}`,
  );
}

function toDts(file) {
  return file.replace(/\.ts$/, ".d.ts");
}

function mapValues(o, f) {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, f(v)]));
}

/** The source file a relative import names (`./x.ts`, `./x.js`, `./x`, `./x/index.ts`), or null. */
function localFile(dir, spec) {
  const base = resolve(dir, spec).replace(/\.(d\.ts|[cm]?[jt]s)$/, "");
  return [`${base}.ts`, `${base}/index.ts`].find((f) => existsSync(f)) ?? null;
}

/** `isolated`: map of `.d.ts` path → declarations of every local file the entries reach; or
 *  `reason`: the first file that needs the type checker, where and why (its diagnostic). */
async function isolatedDeclarations(files) {
  const { default: ts } = await import("typescript");
  const done = new Map();
  const queue = [...files];
  while (queue.length > 0) {
    const file = queue.pop();
    const dts = toDts(file);
    if (done.has(dts)) continue;
    const source = await readFile(file, "utf8");
    const result = ts.transpileDeclaration(source, {
      fileName: file,
      reportDiagnostics: true,
      compilerOptions: { allowImportingTsExtensions: true, module: ts.ModuleKind.NodeNext },
    });
    const [first] = result.diagnostics ?? [];
    if (first) {
      const text = ts.flattenDiagnosticMessageText(first.messageText, " ");
      // A diagnostic of the options has no file or position: name the file being read.
      const at =
        first.file && first.start !== undefined
          ? `:${first.file.getLineAndCharacterOfPosition(first.start).line + 1}`
          : "";
      return { reason: `${relative(process.cwd(), file)}${at}: ${text}` };
    }
    done.set(dts, result.outputText);
    for (const { fileName } of ts.preProcessFile(result.outputText, true, true).importedFiles) {
      const local = /^\.\.?\//.test(fileName) ? localFile(dirname(file), fileName) : null;
      if (local) queue.push(local);
    }
  }
  return { isolated: done };
}

/** Where Node finds package `name` from here: the nearest `node_modules/<name>` up the tree. */
function packageDir(name) {
  for (let dir = process.cwd(); ; dir = dirname(dir)) {
    const candidate = join(dir, "node_modules", name);
    if (existsSync(join(candidate, "package.json"))) return candidate;
    if (dirname(dir) === dir) return null;
  }
}

const LICENCE_FILE = /^(licen[cs]e|copying)([.-].*)?$/i;

/**
 * The licence of each --inline package (LICENSE, license.md, LICENCE, COPYING...) copied to
 * dist/third-party/<package>/: its code ships inside ours, so its licence ships too. A package
 * from the registry without one stops the build; a package of this workspace (its real path
 * outside node_modules) is under the repository's own licence.
 */
async function copyInlinedLicences() {
  for (const name of values.inline) {
    const dir = packageDir(name);
    if (dir === null) continue; // not installed: rollup has already said so
    const files = (await readdir(dir)).filter((f) => LICENCE_FILE.test(f));
    if (files.length === 0) {
      if ((await realpath(dir)).includes(`${sep}node_modules${sep}`)) {
        fail(`--inline ${name}: no licence file in ${dir}; its code would ship without one`);
      }
      continue;
    }
    await mkdir(join(out, "third-party", name), { recursive: true });
    for (const file of files) await copyFile(join(dir, file), join(out, "third-party", name, file));
  }
}

await rm(out, { recursive: true, force: true });
try {
  await Promise.all([buildJs(), buildTypes()]);
  await copyInlinedLicences();
} catch (error) {
  // esbuild has printed its errors with their source lines; rollup's carry the file.
  fail(`${pkg.name}: ${error.message}`);
}
console.log(`vbapi-build: ${pkg.name}: ${Object.keys(entries).join(", ")} → ${join("dist", "")}`);
