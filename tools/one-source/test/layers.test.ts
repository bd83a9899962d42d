// The repository's folders are layers, and dependencies run only downwards:
//   the spec (openapi/, bundled by packages/openapi)  <  lib/ (what packages build from:
//   spec-model, codegen, redis-harness)  <  packages/ (published)  <  tools/ (programs and checks
//   that use the packages: demo, bench, consumer-test, ...).
// A workspace dependency or a relative import that runs back up a layer fails here, naming it.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, normalize, relative } from "node:path";
import { describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "../../..");
const LAYERS = ["spec", "lib", "packages", "tools"] as const;

/** Every workspace package: its folder, its name, its layer. */
const workspace = ["lib", "packages", "tools"].flatMap((top) =>
  readdirSync(join(root, top))
    .filter((name) => statSync(join(root, top, name, "package.json"), { throwIfNoEntry: false }))
    .map((name) => {
      const dir = `${top}/${name}`;
      const pkg = JSON.parse(readFileSync(join(root, dir, "package.json"), "utf8"));
      const layer = dir === "packages/openapi" ? "spec" : top;
      const deps = Object.keys({ ...pkg.dependencies, ...pkg.devDependencies });
      return { dir, name: pkg.name as string, layer, deps };
    }),
);
const byName = new Map(workspace.map((p) => [p.name, p]));
const rank = (layer: string) => LAYERS.indexOf(layer as (typeof LAYERS)[number]);

function* sources(dir: string): Generator<string> {
  for (const name of readdirSync(dir)) {
    if (["node_modules", "dist", ".turbo", "test-results"].includes(name)) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* sources(path);
    else if (/\.(ts|mts|js|mjs)$/.test(name)) yield path;
  }
}

describe("the repository's layers", () => {
  it("finds the layers (the check is not vacuous)", () => {
    expect(
      workspace
        .filter((p) => p.layer === "lib")
        .map((p) => p.dir)
        .sort(),
    ).toEqual(expect.arrayContaining(["lib/codegen", "lib/redis-harness", "lib/spec-model"]));
    expect(workspace.filter((p) => p.layer === "tools").length).toBeGreaterThan(5);
  });

  it("no workspace dependency runs back up a layer", () => {
    const up: string[] = [];
    for (const p of workspace) {
      for (const dep of p.deps) {
        const target = byName.get(dep);
        if (target && rank(target.layer) > rank(p.layer)) {
          up.push(`${p.dir} (${p.layer}) depends on ${target.dir} (${target.layer})`);
        }
      }
    }
    expect(up).toEqual([]);
  });

  it("no relative import crosses into a higher layer", () => {
    const up: string[] = [];
    for (const p of workspace) {
      for (const file of sources(join(root, p.dir))) {
        const text = readFileSync(file, "utf8");
        for (const [, spec] of text.matchAll(/(?:from|import)\s*\(?\s*"(\.{1,2}\/[^"]+)"/g)) {
          const target = relative(root, normalize(join(dirname(file), spec as string)));
          const owner = workspace.find((q) => target === q.dir || target.startsWith(`${q.dir}/`));
          if (owner && rank(owner.layer) > rank(p.layer)) {
            up.push(`${relative(root, file)} imports ${target}`);
          }
        }
      }
    }
    expect(up).toEqual([]);
  });
});
