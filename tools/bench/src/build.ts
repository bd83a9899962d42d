// 6. Build: cold `turbo run build --force` (no cache), a warm rerun (cache hit) and the client's codegen.
import { spawnSync } from "node:child_process";
import type { BenchResult } from "./report.ts";
import { REPO_ROOT } from "./server.ts";
import { fmt, round } from "./stats.ts";

function timed(label: string, cmd: string, args: string[]): { ms: number; cached: string } {
  const t0 = performance.now();
  const r = spawnSync(cmd, args, {
    cwd: REPO_ROOT,
    encoding: "utf8",
    env: { ...process.env, FORCE_COLOR: "0" },
  });
  const ms = performance.now() - t0;
  if (r.status !== 0)
    throw new Error(`${label} failed (exit ${r.status}):\n${r.stdout}\n${r.stderr}`);
  // turbo's summary line, e.g. "Cached:    12 cached, 12 total".
  const cached = /Cached:\s+(\d+ cached, \d+ total)/.exec(r.stdout)?.[1] ?? "";
  return { ms, cached };
}

export async function build({ quick }: { quick: boolean }): Promise<BenchResult> {
  const section = "build";
  if (quick) {
    return {
      name: "build",
      figures: { skipped: "--quick" },
      rows: [{ section, figure: "skipped", value: "--quick" }],
    };
  }
  const codegen = timed("codegen", "pnpm", ["--filter", "@vbapi-sdk/client", "run", "generate"]);
  const cold = timed("cold build", "pnpm", [
    "exec",
    "turbo",
    "run",
    "build",
    "--force",
    "--output-logs=errors-only",
  ]);
  const warm = timed("warm build", "pnpm", [
    "exec",
    "turbo",
    "run",
    "build",
    "--output-logs=errors-only",
  ]);
  return {
    name: "build",
    figures: {
      coldBuildMs: round(cold.ms, 0),
      coldCached: cold.cached,
      warmBuildMs: round(warm.ms, 0),
      warmCached: warm.cached,
      codegenMs: round(codegen.ms, 0),
    },
    rows: [
      {
        section,
        figure: "cold: turbo run build --force",
        value: `${fmt.s(cold.ms)} (${cold.cached})`,
      },
      { section, figure: "warm: turbo run build", value: `${fmt.s(warm.ms)} (${warm.cached})` },
      { section, figure: "codegen: client `generate`", value: fmt.s(codegen.ms) },
    ],
  };
}
