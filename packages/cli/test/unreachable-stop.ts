// The promises of a run stopped because VBA cannot be reached (issue 20), checked the same way by
// every test that plants such a failure: exit 2 within 15 s of the session's start, the words,
// no row blamed, resumable, the HTML report explains it, and nothing secret anywhere it printed
// or wrote.
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { expect } from "vitest";
import { type Result, readJson, vbapi } from "./helpers.ts";

const EXIT_STAMP = join(import.meta.dirname, "exit-stamp.cjs");

/**
 * Runs the bin (its run folder the `--out` argument) timed, with exit-stamp.cjs preloaded: the
 * process writes its own clock at exit beside the run folder (`<out>.exited`).
 */
export async function timed(args: string[], env: Record<string, string | undefined>) {
  const at = args.lastIndexOf("--out");
  if (at < 0 || args[at + 1] === undefined) throw new Error("timed: the run needs --out FOLDER");
  const out = args[at + 1] as string;
  rmSync(`${out}.exited`, { force: true });
  const preload = `--require ${JSON.stringify(EXIT_STAMP)}`;
  const started = performance.now();
  const result = await vbapi(args, {
    env: {
      ...env,
      NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ""} ${preload}`.trim(),
      VBAPI_TEST_EXIT_STAMP: `${out}.exited`,
    },
  });
  return { result, ms: performance.now() - started };
}

/** Everything the run printed or wrote. */
export function everything(result: Result, dir: string): string {
  const files = readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => readFileSync(join(e.parentPath, e.name), "utf8"));
  return [result.stdout, result.stderr, ...files].join("\n");
}

export function expectUnreachableStop(
  run: { ms: number; result: Result },
  s: { dir: string; out: string },
  message: string,
  secrets: Record<string, string>,
  maxRows = Number.POSITIVE_INFINITY,
): void {
  const { result } = run;
  expect(result.code, result.stderr).toBe(2);
  expect(result.stderr).toContain(`error: ${message}`);
  // Rows read before the stop are pending (not failed); the rest are read by resume.
  expect(result.stderr).toMatch(/, 0 failed, 0 invalid, \d+ not done yet/);
  expect(result.stderr).toContain(`resume with: vbapi resume ${s.out}`);
  // resume keeps the run's URL: the advice says how to change it (review finding 9).
  expect(result.stderr).toContain(
    `vbapi resume ${s.out} keeps this run's URL (VBAPI_BASE_URL does not change it: add --base-url URL if it was wrong)`,
  );
  const summary = readJson<{ status: string; exitCode: number; totals: Record<string, number> }>(
    join(s.out, "summary.json"),
  );
  expect(summary).toMatchObject({ status: "unreachable", exitCode: 2 });
  // Within 15 s of the session's start, by the run's own clock: the process's start-up beside
  // the rest of the suite (seconds on a loaded machine) is not the SDK's to keep short.
  expect((summary as unknown as { timings: { sessionMs: number } }).timings.sessionMs).toBeLessThan(
    15_000,
  );
  // ...and the process ended soon after it wrote summary.json (the report, a telemetry flush
  // and the exit are not a second wait: an idle keep-alive socket or an exporter's flush would be
  // seconds), by the process's own clock at exit (a test worker running other tests beside it
  // sees the exit late; one did, 5.07 s after, on a loaded CI machine).
  const exited = Number(readFileSync(`${s.out}.exited`, "utf8"));
  const written = statSync(join(s.out, "summary.json")).mtimeMs;
  expect(Number.isFinite(exited) && exited >= written - 50, `exit stamp ${exited}`).toBe(true);
  expect(exited - written).toBeLessThan(3_000);
  expect(summary.totals).toMatchObject({ failed: 0, created: 0, updated: 0 });
  expect(summary.totals.pending).toBe(summary.totals.rows);
  expect(summary.totals.rows).toBeGreaterThan(0);
  expect(summary.totals.rows).toBeLessThanOrEqual(maxRows);
  // The HTML report (written at the end of every run) says why and what to do.
  expect(readFileSync(join(s.out, "report.html"), "utf8")).toContain(
    "VBA could not be reached; the rows not done yet are sent by vbapi resume.",
  );
  const failed = join(s.out, "failed.csv");
  if (existsSync(failed)) expect(readFileSync(failed, "utf8").trim().split("\n")).toHaveLength(1);
  const all = everything(result, s.dir);
  expect(all).not.toContain("see the error's cause");
  expect(all).not.toContain("may have been applied");
  for (const secret of Object.values(secrets)) expect(all).not.toContain(secret);
}
