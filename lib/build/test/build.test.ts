// vbapi-build on small packages made in a temporary folder: the files, the two module formats,
// the types (the same by both declaration paths), and the refusals.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, describe, expect, it } from "vitest";

const bin = join(import.meta.dirname, "../bin/vbapi-build.mjs");
const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** A package folder with these files (and a package.json naming these dependencies). */
function fixture(files: Record<string, string>, dependencies: Record<string, string> = {}) {
  const dir = mkdtempSync(join(tmpdir(), "vbapi-build-"));
  dirs.push(dir);
  const all = { "package.json": JSON.stringify({ name: "@x/pkg", type: "module", dependencies }) };
  for (const [name, text] of Object.entries({ ...all, ...files })) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}
/** A build that hangs is killed after a minute (a sync child blocks the test's own timeout). */
const build = (dir: string, ...args: string[]) =>
  spawnSync(process.execPath, [bin, ...args], { cwd: dir, encoding: "utf8", timeout: 60_000 });
const list = (dir: string, sub = ""): string[] =>
  execFileSync("find", [".", "-type", "f"], { cwd: join(dir, sub), encoding: "utf8" })
    .split("\n")
    .filter(Boolean)
    .map((f) => f.replace(/\.[\w-]{8}\.(c|m)js$/, ".HASH.$1js"))
    .sort();

const SHARED = `import { sep } from "node:path";
export class Failure extends Error {
  static of(message: string): Failure { return new Failure(message); }
  override readonly name: string = "Failure";
}
export function join2(a: string, b: string): string { return a + sep + b; }
`;

describe("vbapi-build", () => {
  it("writes ESM, CommonJS and types per entry, a shared chunk, a lazy chunk and executable bins", async () => {
    const dir = fixture({
      "src/shared.ts": SHARED,
      "src/lazy.ts": `export const later: number = 42;\n`,
      "src/index.ts": `export { Failure, join2 } from "./shared.ts";\nexport async function load(): Promise<number> { return (await import("./lazy.ts")).later; }\n`,
      "src/cli.ts": `#!/usr/bin/env node\nimport { join2 } from "./shared.ts";\nconsole.log(join2("a", "b"));\n`,
    });
    const run = build(dir, "src/index", "src/cli");
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
    expect(list(dir, "dist")).toEqual(
      [
        "./chunks/lazy.cjs",
        "./chunks/lazy.mjs",
        "./cli.cjs",
        "./cli.d.cts",
        "./cli.d.mts",
        "./cli.d.ts",
        "./cli.mjs",
        "./index.cjs",
        "./index.d.cts",
        "./index.d.mts",
        "./index.d.ts",
        "./index.mjs",
        "./shared/pkg.HASH.cjs",
        "./shared/pkg.HASH.mjs",
      ].sort(),
    );
    expect(statSync(join(dir, "dist/cli.mjs")).mode & 0o111).not.toBe(0);
    expect(statSync(join(dir, "dist/index.mjs")).mode & 0o111).toBe(0);
    expect(execFileSync(process.execPath, [join(dir, "dist/cli.cjs")], { encoding: "utf8" })).toBe(
      "a/b\n",
    );
    const esm = await import(pathToFileURL(join(dir, "dist/index.mjs")).href);
    const cjs = createRequire(import.meta.url)(join(dir, "dist/index.cjs"));
    for (const mod of [esm, cjs]) {
      expect(Object.keys(mod).sort()).toEqual(["Failure", "join2", "load"]);
      expect(mod.Failure.name).toBe("Failure");
      expect(mod.Failure.of("x")).toBeInstanceOf(Error);
      expect(await mod.load()).toBe(42);
    }
    const types = readFileSync(join(dir, "dist/index.d.mts"), "utf8");
    expect(types).toContain("declare class Failure extends Error");
    expect(types).toContain("declare function load(): Promise<number>;");
    expect(readFileSync(join(dir, "dist/index.d.cts"), "utf8")).toBe(types);
    expect(readFileSync(join(dir, "dist/cli.d.mts"), "utf8")).not.toContain("#!");
  });

  it("gives the same declarations file by file as from the type checker", () => {
    const annotated = fixture({
      "src/shared.ts": SHARED,
      "src/index.ts": `export { Failure, join2 } from "./shared.ts";\nexport const ready: boolean = true;\n`,
    });
    // The same, but one export needs the checker to infer its type: the program path.
    const inferred = fixture({
      "src/shared.ts": SHARED,
      "src/index.ts": `export { Failure, join2 } from "./shared.ts";\nexport const ready = 1 > 0;\n`,
    });
    const a = build(annotated, "src/index");
    const b = build(inferred, "src/index");
    expect(a.stdout).toContain("types file by file (isolated declarations)");
    // The slow path says which file and line sent it there, so the build can be made fast again.
    expect(b.stdout).toMatch(
      /types from the program \(slower\), because src\/index\.ts:2: Variable must have an explicit type annotation/,
    );
    const dts = (dir: string) => readFileSync(join(dir, "dist/index.d.ts"), "utf8");
    expect(dts(inferred)).toBe(dts(annotated));
    expect(dts(annotated)).toContain("declare const ready: boolean;");
  });

  it("refuses an import of a package that is not a dependency, naming the file and the package", () => {
    const dir = fixture({ "src/index.ts": `export { parse } from "left-pad";\n` });
    const run = build(dir, "src/index");
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/src\/index\.ts imports left-pad: add left-pad to dependencies/);
  });

  it("--inline of a dependency: its code goes into the JavaScript with its licence, its types stay an import", async () => {
    // An ESM package as TypeScript compiles one (extensionless imports, a top-level `this`
    // helper), of which the entry uses one export and a type.
    const dir = fixture(
      {
        "node_modules/otel-like/package.json": JSON.stringify({
          name: "otel-like",
          type: "module",
          sideEffects: false,
          exports: { ".": { types: "./index.d.ts", default: "./index.js" } },
        }),
        "node_modules/otel-like/index.js": `export { tracer } from "./tracer";\nexport { unused } from "./unused";\n`,
        "node_modules/otel-like/tracer.js": `var __read = (this && this.__read) || function (o) { return o; };\nexport function tracer(name) { return __read({ name, noop: true }); }\n`,
        "node_modules/otel-like/unused.js": `export const unused = "NOT-USED-BY-THE-ENTRY";\n`,
        "node_modules/otel-like/LICENSE": "Apache License, Version 2.0 (otel-like's own)\n",
        "node_modules/otel-like/index.d.ts": `export interface Tracer { name: string; noop: boolean }\nexport declare function tracer(name: string): Tracer;\nexport declare const unused: string;\n`,
        "src/index.ts": `import { type Tracer, tracer } from "otel-like";\nexport function start(name: string): Tracer { return tracer(name); }\n`,
      },
      { "otel-like": "1" },
    );
    const run = build(dir, "--inline", "otel-like", "src/index");
    expect(run.stderr).toBe(""); // the `this` rewrite is not worth a warning
    expect(run.status).toBe(0);
    for (const file of ["dist/index.mjs", "dist/index.cjs"]) {
      const js = readFileSync(join(dir, file), "utf8");
      expect(js).not.toContain("otel-like");
      expect(js).not.toContain("NOT-USED-BY-THE-ENTRY"); // tree-shaken
    }
    expect(readFileSync(join(dir, "dist/index.d.mts"), "utf8")).toContain(
      "import { Tracer } from 'otel-like';",
    );
    // Its code ships inside ours: so does its licence.
    expect(readFileSync(join(dir, "dist/third-party/otel-like/LICENSE"), "utf8")).toBe(
      "Apache License, Version 2.0 (otel-like's own)\n",
    );
    // The JavaScript runs without the package.
    rmSync(join(dir, "node_modules"), { recursive: true });
    const esm = await import(pathToFileURL(join(dir, "dist/index.mjs")).href);
    const cjs = createRequire(import.meta.url)(join(dir, "dist/index.cjs"));
    for (const mod of [esm, cjs]) expect(mod.start("a")).toEqual({ name: "a", noop: true });
  });

  it("--inline: a licence under any usual name ships; a registry package without one stops the build", () => {
    const pkg = (licence?: [string, string]) =>
      fixture(
        {
          "node_modules/lp/package.json": JSON.stringify({ name: "lp", type: "module" }),
          "node_modules/lp/index.js": `export const lp = 1;\n`,
          ...(licence && { [`node_modules/lp/${licence[0]}`]: licence[1] }),
          "src/index.ts": `import { lp } from "lp";\nexport const value: number = lp;\n`,
        },
        { lp: "1" },
      );
    const lower = pkg(["license", "MIT (lp's own)\n"]);
    expect(build(lower, "--inline", "lp", "src/index").status).toBe(0);
    expect(readFileSync(join(lower, "dist/third-party/lp/license"), "utf8")).toBe(
      "MIT (lp's own)\n",
    );
    const copying = pkg(["COPYING", "GPL-free, really\n"]);
    expect(build(copying, "--inline", "lp", "src/index").status).toBe(0);
    expect(readFileSync(join(copying, "dist/third-party/lp/COPYING"), "utf8")).toBe(
      "GPL-free, really\n",
    );
    const none = build(pkg(), "--inline", "lp", "src/index");
    expect(none.status).toBe(1);
    expect(none.stderr).toContain("--inline lp: no licence file");
  });

  it("keeps a dependency's import, and refuses a missing entry and no entry at all", () => {
    const dir = fixture(
      { "src/index.ts": `export { parse } from "left-pad";\n` },
      { "left-pad": "1" },
    );
    const ok = build(dir, "src/index");
    expect(ok.status).toBe(0);
    expect(readFileSync(join(dir, "dist/index.mjs"), "utf8")).toContain("from 'left-pad'");
    expect(readFileSync(join(dir, "dist/index.cjs"), "utf8")).toContain("require('left-pad')");
    const missing = build(dir, "src/nope");
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/entry .*src\/nope\.ts does not exist/);
    const none = build(dir);
    expect(none.status).toBe(1);
    expect(none.stderr).toContain("no entry given");
  });
});
