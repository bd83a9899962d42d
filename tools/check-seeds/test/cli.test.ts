import { spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
// A relative import: lib/test-bin is below tools/ (see tools/one-source's layers test).
import { bundleCli } from "../../../lib/test-bin/src/index.ts";
import { fixtures, seedsDir, withSeeds } from "./seeds.ts";

// The CLI bundled once for the file: `node bundle.mjs` starts in tens of milliseconds where
// `tsx check-seeds.ts` compiled on each of the five runs.
const cli = bundleCli(resolve(import.meta.dirname, "../check-seeds.ts"));
const missing = join(mkdtempSync(join(tmpdir(), "check-seeds-")), "no-seeds-here");
const run = (args: string[], env: Record<string, string> = {}) => {
  const r = spawnSync(process.execPath, [cli, ...args], {
    encoding: "utf8",
    env: { ...process.env, ...env },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};

describe("pnpm check:seeds", () => {
  it("skips with exit 0 and says why when the seed folder is absent", () => {
    const r = run([], { VBAPI_SEEDS_DIR: missing });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`check:seeds: skipped: no seed folder at ${missing}.`);
    expect(r.stdout).toContain("Point --seeds or VBAPI_SEEDS_DIR at them");
  });

  it("fails with exit 2 when the seeds were asked for and are absent", () => {
    for (const args of [["--seeds", missing], ["--require-seeds"]]) {
      const r = run(args, { VBAPI_SEEDS_DIR: missing });
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.stderr).toContain(`check:seeds: no seed folder at ${missing}`);
    }
    expect(run(["--bogus"]).code).toBe(2);
  });

  it("exits 1 listing every difference between the seeds and the spec", () => {
    const r = run(["--seeds", fixtures]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("✗ PUT /owners/{ownerKey}/widgets-batch is missing from the spec");
    expect(r.stderr).toContain("✗ PUT /tolerances-batch: in the spec but described by no seed");
    expect(r.stderr).toMatch(/check:seeds: 6 difference\(s\) between /);
  });

  it.skipIf(!seedsDir)(withSeeds("passes against the real seeds"), () => {
    const r = run(["--require-seeds"], { VBAPI_SEEDS_DIR: seedsDir as string });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/check:seeds: 5 endpoints and \d+ fields match the seeds/);
  });
});
