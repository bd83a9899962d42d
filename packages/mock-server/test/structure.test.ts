// The package's own shape: no import cycle between source files, and every file short enough to
// read in one sitting.
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";

const srcDir = fileURLToPath(new URL("../src/", import.meta.url));
const files = readdirSync(srcDir).filter((f) => f.endsWith(".ts"));
const source = new Map(files.map((f) => [f, readFileSync(`${srcDir}${f}`, "utf8")]));

function importsOf(file: string): string[] {
  const text = source.get(file) ?? "";
  return [...text.matchAll(/from "\.\/([\w-]+\.ts)"/g)].map((m) => m[1] as string);
}

it("has no import cycle among its source files", () => {
  const cycles: string[] = [];
  const visit = (file: string, trail: string[]) => {
    if (trail.includes(file)) {
      cycles.push([...trail.slice(trail.indexOf(file)), file].join(" -> "));
      return;
    }
    for (const next of importsOf(file)) visit(next, [...trail, file]);
  };
  for (const file of files) visit(file, []);
  expect(cycles).toEqual([]);
});

it("keeps every source file under 400 lines and imports with .ts extensions", () => {
  for (const [file, text] of source) {
    expect(text.split("\n").length, file).toBeLessThanOrEqual(400);
    expect(text, file).not.toMatch(/from "\.\/[\w-]+(\.js)?"/);
  }
});
