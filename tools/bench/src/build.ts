// 6. Build: cold `turbo run build --force` (no cache), a warm rerun (cache hit) and the client's codegen.
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { BenchResult } from "./report.ts";
import { fmt, round } from "./stats.ts";

const ROOT = fileURLToPath(new URL("../../..", import.meta.url));

function timed(label: string, cmd: string, args: string[]): number {
  const t0 = performance.now();
  const r = spawnSync(cmd, args, {
    cwd: ROOT,
    encoding: "utf8",
    env: { ...process.env, FORCE_COLOR: "0" },
  });
  const ms = performance.now() - t0;
  if (r.status !== 0)
    throw new Error(`${label} failed (exit ${r.status}):\n${r.stdout}\n${r.stderr}`);
  return ms;
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
      coldBuildMs: round(cold, 0),
      warmBuildMs: round(warm, 0),
      codegenMs: round(codegen, 0),
    },
    rows: [
      { section, figure: "cold: turbo run build --force", value: fmt.s(cold) },
      { section, figure: "warm: turbo run build (cache hit)", value: fmt.s(warm) },
      { section, figure: "codegen: client `generate`", value: fmt.s(codegen) },
    ],
  };
}
