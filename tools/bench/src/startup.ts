// The `vbapi` CLI's start-up CPU (issue 23: the CLI's tests spawn it ~140 times; users run
// it in loops and cron). Every command is the built bin (packages/cli/dist/cli.mjs) in a fresh
// `node` process; its whole CPU time (user + system, from the process's start to its exit) is
// written by cpu-probe.cjs, preloaded with --require. The baseline is the same `node`, with the
// same probe, running nothing (`node -e 0`), so the figure is a ratio to what Node alone costs.
// Each round runs every contender once, in a new seeded random order; the figure is the median.
//   help:           vbapi --help
//   upsert:         vbapi upsert tolerances t.csv (50 rows, VBAPI_TOKEN) against the reference
//                   server in its own process
//   full run only:  the same upsert logging in (VBAPI_USERNAME..., an empty token cache, so it
//                   logs in every time), validate of the same file, resume of a finished run,
//                   doctor against the reference server
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { BenchResult } from "./report.ts";
import { API_KEY, DATABASE, REPO_ROOT, type ServerHandle, startServer, TOKEN } from "./server.ts";
import { median, round } from "./stats.ts";

const CLI = join(REPO_ROOT, "packages/cli/dist/cli.mjs");
const PROBE = fileURLToPath(new URL("./cpu-probe.cjs", import.meta.url));
const ROWS = 50;
const USER = { username: "bench", password: "bench-pass", clientId: "c1", clientCode: "cc1" };

interface Contender {
  name: string;
  args: string[];
  env?: Record<string, string>;
  /** Exit codes that mean the command did what it should. */
  ok?: number[];
}

/** The CPU time (ms) of one run of `node PROBE args`; throws when it fails. */
function cpuOf(c: Contender, dir: string, run: number): number {
  const out = join(dir, `cpu-${c.name}-${run}`);
  const r = spawnSync(process.execPath, ["--require", PROBE, ...c.args], {
    cwd: dir,
    encoding: "utf8",
    // Only what the command needs: no proxy, telemetry or VBAPI_* variable of this shell.
    env: {
      PATH: process.env.PATH ?? "",
      HOME: dir,
      XDG_CACHE_HOME: join(dir, `cache-${c.name}-${run}`),
      BENCH_CPU_FILE: out,
      ...c.env,
    },
  });
  if (!(c.ok ?? [0]).includes(r.status ?? -1))
    throw new Error(`${c.name} exited ${r.status}: ${`${r.stderr}${r.stdout}`.slice(-400)}`);
  return Number(readFileSync(out, "utf8")) / 1000;
}

/** A seeded shuffle (the same orders on every run). */
function shuffled<T>(items: readonly T[], seed: number): T[] {
  const out = [...items];
  let s = seed;
  for (let i = out.length - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

function csv(): string {
  const lines = ["tolerance_Key,entry_Date,entry_User,group_ID,payment_Method,tolerance1"];
  for (let i = 1; i <= ROWS; i++)
    lines.push(`${i},2026-01-05T08:30:00Z,BENCH,GRP${i},ACH,${(i % 10) + 0.5}`);
  return `${lines.join("\n")}\n`;
}

export async function startup({ quick }: { quick: boolean }): Promise<BenchResult> {
  const section = `CLI start-up CPU (median of ${quick ? 3 : 10})`;
  const dir = mkdtempSync(join(tmpdir(), "vbapi-bench-cli-"));
  const servers: ServerHandle[] = [];
  try {
    writeFileSync(join(dir, "t.csv"), csv());
    const tokenServer = await startServer({ rateLimit: false });
    servers.push(tokenServer);
    const tokenEnv = {
      VBAPI_BASE_URL: tokenServer.url,
      VBAPI_API_KEY: API_KEY,
      VBAPI_TOKEN: TOKEN,
      VBAPI_DATABASE: DATABASE,
    };
    const contenders: Contender[] = [
      { name: "node -e 0", args: ["-e", "0"] },
      { name: "help", args: [CLI, "--help"] },
      { name: "upsert", args: [CLI, "upsert", "tolerances", "t.csv"], env: tokenEnv },
    ];
    if (!quick) {
      const loginServer = await startServer({
        rateLimit: false,
        loginRateLimit: false,
        users: [USER],
      });
      servers.push(loginServer);
      const loginEnv = {
        VBAPI_BASE_URL: loginServer.url,
        VBAPI_API_KEY: API_KEY,
        VBAPI_USERNAME: USER.username,
        VBAPI_PASSWORD: USER.password,
        VBAPI_CLIENT_ID: USER.clientId,
        VBAPI_CLIENT_CODE: USER.clientCode,
        VBAPI_DATABASE: DATABASE,
      };
      // The run folder resume continues (finished: resume reads it, sends nothing, reports).
      const runDir = join(dir, "finished-run");
      cpuOf(
        {
          name: "setup",
          args: [CLI, "upsert", "tolerances", "t.csv", "--out", runDir],
          env: tokenEnv,
        },
        dir,
        0,
      );
      contenders.push(
        { name: "upsert, login", args: [CLI, "upsert", "tolerances", "t.csv"], env: loginEnv },
        { name: "validate", args: [CLI, "validate", "tolerances", "t.csv"] },
        { name: "resume", args: [CLI, "resume", runDir], env: tokenEnv },
        { name: "doctor", args: [CLI, "doctor"], env: tokenEnv },
      );
    }
    const rounds = quick ? 3 : 10;
    const cpu = new Map<string, number[]>(contenders.map((c) => [c.name, []]));
    // One warm-up run each (disk cache, the server's JIT), not counted.
    for (const c of contenders) cpuOf(c, dir, -1);
    for (let round = 0; round < rounds; round++)
      for (const c of shuffled(contenders, round + 1)) cpu.get(c.name)?.push(cpuOf(c, dir, round));

    const medians = Object.fromEntries(
      [...cpu].map(([name, values]) => [name, round(median(values), 1)]),
    );
    const base = medians["node -e 0"] as number;
    const rows = contenders.slice(1).map((c) => {
      const ms = medians[c.name] as number;
      return {
        section,
        figure: `vbapi ${c.name} / node -e 0`,
        value: `${(ms / base).toFixed(2)}x (${ms.toFixed(0)} ms against ${base.toFixed(0)} ms)`,
      };
    });
    return {
      name: "startup",
      figures: { rows: ROWS, rounds, cpuMs: Object.fromEntries(cpu), medianCpuMs: medians },
      rows,
    };
  } finally {
    for (const s of servers) await s.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
