// Smoke test: `pnpm bench --quick` runs every benchmark end to end (small counts, no build)
// and writes a results file with every section. It does not check the figures.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, test } from "vitest";

test("bench --quick runs every benchmark and saves the results", () => {
  const out = join(mkdtempSync(join(tmpdir(), "vbapi-bench-")), "results.json");
  const stdout = execFileSync(
    process.execPath,
    ["--import", "tsx", "src/main.ts", "--quick", `--out=${out}`],
    {
      cwd: new URL("..", import.meta.url),
      encoding: "utf8",
    },
  );
  expect(stdout).toMatch(/Benchmark\s+Figure\s+Value/);
  const json = JSON.parse(readFileSync(out, "utf8"));
  expect(json.quick).toBe(true);
  expect(json.machine.cpuCount).toBeGreaterThan(0);
  expect(Object.keys(json.results)).toEqual([
    "overhead",
    "bulk",
    "ratelimit",
    "memory",
    "validation",
    "build",
  ]);
  for (const [name, result] of Object.entries(json.results)) {
    expect({ name, error: (result as { error?: string }).error }).toEqual({
      name,
      error: undefined,
    });
  }
  expect(json.table.length).toBeGreaterThan(10);
});
