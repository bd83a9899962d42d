// The source folders are layers: each imports only from itself and the folders below it, in the
// order src/README.md gives. An import that runs back up a layer fails here, naming it.
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, normalize, relative } from "node:path";
import { describe, expect, it } from "vitest";

const src = join(import.meta.dirname, "../src");
const LAYERS = ["generated", "base", "transport", "auth", "client", "bulk", "."];
/** The generated bulk one-liners call the hand-written engine: the one file allowed to import up. */
const ALLOWED_UP = new Set(["generated/bulk.ts -> bulk", "generated/bulk.ts -> base"]);

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith(".ts") ? [join(dir, e.name)] : [],
  );
}

const layerOf = (file: string): string => {
  const rel = relative(src, file);
  return rel.includes("/") ? (rel.split("/")[0] as string) : ".";
};

describe("the client's folders are layers", () => {
  it("every folder is a known layer", () => {
    const folders = new Set(files(src).map(layerOf));
    expect([...folders].sort()).toEqual([...LAYERS].sort());
  });

  it("no import runs back up a layer", () => {
    const violations: string[] = [];
    let imports = 0;
    for (const file of files(src)) {
      const from = layerOf(file);
      const text = readFileSync(file, "utf8");
      for (const [, spec] of text.matchAll(/from\s+"(\.{1,2}\/[^"]+)"/g)) {
        const target = normalize(join(dirname(file), spec as string));
        if (!target.startsWith(src)) continue; // package.json
        imports++;
        const to = layerOf(target);
        const rel = relative(src, file);
        if (LAYERS.indexOf(to) > LAYERS.indexOf(from) && !ALLOWED_UP.has(`${rel} -> ${to}`)) {
          violations.push(`${rel} imports ${relative(src, target)} (${from} is below ${to})`);
        }
      }
    }
    expect(imports).toBeGreaterThan(80);
    expect(violations).toEqual([]);
  });
});
