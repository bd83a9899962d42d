// Sums the vitest JSON reports of every package and prints where the time went (per package:
// from its first file's start to its last file's end, and its files' times added up; then the
// slowest test files) and one closing line, "tests: N passed, N failed", exiting
// non-zero when any test failed or none ran.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

const root = new URL("../..", import.meta.url).pathname;
let passed = 0;
let failed = 0;
let skipped = 0;
const files = [];
for (const dir of ["lib", "packages", "tools"]) {
  for (const name of readdirSync(join(root, dir))) {
    const file = join(root, dir, name, "test-results/vitest.json");
    if (!existsSync(file)) continue;
    const r = JSON.parse(readFileSync(file, "utf8"));
    passed += r.numPassedTests;
    failed += r.numFailedTests;
    skipped += r.numPendingTests + r.numTodoTests;
    const results = r.testResults ?? [];
    const start = Math.min(...results.map((t) => t.startTime ?? r.startTime));
    const end = Math.max(...results.map((t) => t.endTime ?? 0));
    const seconds = results.length ? ((end - start) / 1000).toFixed(1) : "0.0";
    // The files' own times added up: more than the span when files ran side by side.
    const fileSeconds = results.reduce((n, t) => n + (t.endTime - t.startTime), 0) / 1000;
    console.log(
      `${dir}/${name}: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${seconds} s ` +
        `(files: ${fileSeconds.toFixed(1)} s)`,
    );
    for (const t of results) {
      files.push({
        name: `${dir}/${name}/${t.name.split(`/${name}/`).pop()}`,
        ms: t.endTime - t.startTime,
      });
    }
  }
}
files.sort((a, b) => b.ms - a.ms);
console.log("slowest test files:");
for (const f of files.slice(0, 10))
  console.log(`  ${(f.ms / 1000).toFixed(1).padStart(5)} s  ${f.name}`);
console.log(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
