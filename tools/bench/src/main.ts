// `pnpm bench`: runs the benchmarks in order, prints one table and saves bench/results.json.
// Flags: --quick (smoke run, small counts; what CI runs), --only=overhead,bulk,... , --out=<file>.
// Only a full run of every benchmark writes bench/results.json; --quick and --only write to the
// OS temp directory unless --out says otherwise.
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import { dirname, join, resolve } from "node:path";
import { type BenchResult, formatTable } from "./report.ts";
import { REPO_ROOT } from "./server.ts";

/** In order; each module `./<name>.ts` exports a function of that name (loaded lazily). */
const BENCHMARKS = [
  "overhead",
  "bulk",
  "realistic",
  "multiprocess",
  "memory",
  "validation",
  "tokens",
  "startup",
  "build",
] as const;
type BenchName = (typeof BENCHMARKS)[number];
type Bench = (options: { quick: boolean }) => Promise<BenchResult>;

function flag(name: string): string | undefined {
  const arg = process.argv.find((a) => a === `--${name}` || a.startsWith(`--${name}=`));
  return arg === undefined ? undefined : (arg.split("=")[1] ?? "");
}

function git(args: string[]): string {
  try {
    return execFileSync("git", args, { cwd: REPO_ROOT, encoding: "utf8" }).trim();
  } catch {
    return "";
  }
}

function machine() {
  const cpus = os.cpus();
  return {
    os: `${os.type()} ${os.release()} (${os.platform()}/${os.arch()})`,
    cpuModel: cpus[0]?.model.trim() ?? "unknown",
    cpuCount: cpus.length,
    availableParallelism: os.availableParallelism(),
    memoryGB: Math.round((os.totalmem() / 1024 ** 3) * 10) / 10,
    node: process.version,
    /** 1, 5 and 15 minute load averages when the run started (the machine may be shared). */
    loadAverage: os.loadavg().map((x) => Math.round(x * 100) / 100),
  };
}

// An error thrown where nobody awaits it (e.g. inside a library callback) fails the running
// benchmark instead of killing the process; one from an already failed benchmark is only logged.
let failCurrent: ((error: unknown) => void) | undefined;
const onStray = (error: unknown) => {
  if (failCurrent) failCurrent(error);
  else console.error(`(stray error from a finished benchmark: ${String(error).split("\n")[0]})`);
};
process.on("uncaughtException", onStray);
process.on("unhandledRejection", onStray);

function failOnStrayError<T>(run: Promise<T>): Promise<T> {
  const stray = new Promise<never>((_, reject) => {
    failCurrent = reject;
  });
  return Promise.race([run, stray]).finally(() => {
    failCurrent = undefined;
  });
}

async function main() {
  const quick = flag("quick") !== undefined;
  const only = flag("only")?.split(",").filter(Boolean) as BenchName[] | undefined;
  const names = BENCHMARKS.filter((n) => !only || only.includes(n));
  const out = resolve(
    flag("out") ||
      (quick || only
        ? join(os.tmpdir(), `vbapi-bench-${quick ? "quick" : "partial"}.json`)
        : join(REPO_ROOT, "bench/results.json")),
  );
  const head = git(["rev-parse", "--short", "HEAD"]);
  const commit = head && git(["status", "--porcelain"]) !== "" ? `${head}-dirty` : head;
  const info = machine();
  console.log(
    `vbapi-sdk benchmarks${quick ? " (--quick: smoke run, figures not meaningful)" : ""}\n` +
      `commit ${commit || "unknown"} · ${info.os} · ${info.cpuCount}x ${info.cpuModel} · ` +
      `${info.memoryGB} GB · node ${info.node} · load ${info.loadAverage.join(" ")}\n`,
  );

  const results: BenchResult[] = [];
  const started = Date.now();
  for (const name of names) {
    const t0 = Date.now();
    process.stdout.write(`running ${name}... `);
    try {
      const mod = (await import(`./${name}.ts`)) as Record<string, Bench>;
      results.push(await failOnStrayError((mod[name] as Bench)({ quick })));
      console.log(`${((Date.now() - t0) / 1000).toFixed(1)} s`);
    } catch (error) {
      // A broken benchmark is reported as such; the others still run.
      const message = error instanceof Error ? error.message.split("\n")[0] : String(error);
      console.log(`FAILED: ${message}`);
      results.push({
        name,
        figures: { error: message },
        rows: [
          { section: name, figure: "benchmark failed", value: message ?? "", verdict: "MISS" },
        ],
      });
    }
  }

  const rows = results.flatMap((r) => r.rows);
  console.log(`\n${formatTable(rows)}\n`);
  const notes = results.flatMap((r) => r.notes ?? []);
  if (notes.length > 0) console.log(`Notes:\n${notes.map((n) => `- ${n}`).join("\n")}\n`);
  const missed = rows.filter((r) => r.verdict === "MISS");
  console.log(
    missed.length === 0
      ? "Every target was met."
      : `${missed.length} target(s) MISSED: ${missed.map((r) => `${r.section}: ${r.figure}`).join("; ")}`,
  );

  const loadAtEnd = os.loadavg().map((x) => Math.round(x * 100) / 100);
  console.log(
    `Load average at the end: ${loadAtEnd.join(" ")} (at the start: ${info.loadAverage.join(" ")})`,
  );
  const json = {
    loadAtEnd,
    date: new Date().toISOString(),
    commit,
    quick,
    machine: info,
    totalSeconds: Math.round((Date.now() - started) / 100) / 10,
    results: Object.fromEntries(
      results.map((r) => [r.name, { ...r.figures, notes: r.notes ?? [] }]),
    ),
    table: rows,
  };
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(json, null, 2)}\n`);
  console.log(`\nSaved ${out}`);
  // Exit status: 1 when a benchmark broke (always), or, in a full run, when a target was missed.
  // --quick (CI's smoke run) checks that everything runs; its small counts make no verdict.
  const broken = results.filter((r) => "error" in r.figures).map((r) => r.name);
  if (broken.length > 0) {
    console.error(`Benchmark(s) failed to run: ${broken.join(", ")}`);
    process.exitCode = 1;
  } else if (!quick && missed.length > 0) process.exitCode = 1;
}

await main();
