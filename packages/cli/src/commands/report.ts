// The end of a run, for a person (stderr), or the final --json event: upsert and resume. Both
// write the run's HTML report (report.html) into the run folder first and name it; a report that
// cannot be written (whatever was thrown while building or writing it) is one warning, never a
// different exit code, and a damaged journal is one warning too. And `vbapi report <run-dir>`:
// the report of any run folder, again, as text or (--html) as the page; a folder it cannot
// report is exit 2 with one line naming the problem.
import { resolve } from "node:path";
import { defaults } from "@vbapi-sdk/client";
import type { Command } from "commander";
import { count, fmt } from "../count.ts";
import type { Display } from "../display.ts";
import { EXIT, heldUntilLine, notDoneYet } from "../exit.ts";
import { io, setExitCode } from "../io.ts";
import { loadReportData, type ReportData } from "../report-html/data.ts";
import { REPORT_FILE, writeHtmlReport } from "../report-html/index.ts";
import { terminalText } from "../safe-text.ts";
import type { SessionResult } from "../session/session.ts";
import type { RunTotals } from "../session/summary.ts";
import { shellQuote } from "../shell-quote.ts";
import { UsageError } from "./args.ts";

/** The fields of summary.json the report reads. */
interface ReportedSummary {
  entity: string;
  totals: RunTotals;
  requests: number;
  retries: number;
  rateLimited: number;
  timings: { sessionMs: number };
  files: { failed: string; succeeded: string };
  resumeCommand?: string;
  /** Rows were held back until then (ISO 8601): see heldUntilLine. */
  heldBackUntil?: string;
  error?: string;
  refusedBy?: string;
  firstFailures: string[];
}

/** Longest error message shown in the one-line warning. */
const MAX_REASON = 200;

/**
 * What went wrong, in a few words, whatever was thrown (an Error, an errno error, or anything
 * else): its code (`EISDIR`), else its message, else its text; never a stack, never throws.
 */
export function reasonOf(error: unknown): string {
  let reason = "";
  try {
    if (error !== null && typeof error === "object") {
      const { code, message } = error as { code?: unknown; message?: unknown };
      if (typeof code === "string" && code !== "") reason = code;
      else if (typeof message === "string") reason = message;
    } else {
      reason = String(error);
    }
  } catch {
    // a getter or toString that throws: no reason to give
  }
  reason = reason.replace(/\s+/g, " ").trim();
  if (reason.length > MAX_REASON) reason = `${reason.slice(0, MAX_REASON - 1)}…`;
  return terminalText(reason || "unknown error");
}

/** The one line a report that could not be written at the end of a run is. */
export function reportWarning(runDir: string, error: unknown): string {
  return `warning: the HTML report was not written (${reasonOf(error)}); the run itself is unaffected: vbapi report ${terminalText(shellQuote(runDir))} --html writes it again\n`;
}

/** The one line a damaged journal is (the report left the damage out). */
const damageWarning = (damage: string) => `warning: ${terminalText(damage)}\n`;

/**
 * Writes `<run-dir>/report.html`; on failure, whatever was thrown, one warning on stderr and
 * undefined: the report never changes how the run ends.
 */
async function writeReportOrWarn(runDir: string): Promise<string | undefined> {
  try {
    const { path, journalDamage } = await writeHtmlReport(runDir);
    if (journalDamage) io().stderr.write(damageWarning(journalDamage));
    return path;
  } catch (error) {
    io().stderr.write(reportWarning(runDir, error));
    return undefined;
  }
}

export async function report(
  display: Display,
  runDir: string,
  result: SessionResult,
): Promise<void> {
  const s = result.summary as unknown as ReportedSummary;
  const { firstFailures, ...summary } = s;
  const page = await writeReportOrWarn(runDir);
  // --json: the page's path in the done event (null when it could not be written).
  display.event("done", { runDir, ...summary, report: page ?? null });
  if (display.mode === "json") return;
  const t = s.totals;
  const lines = [
    `${s.entity}: ${count(t.rows, "row")}: ${fmt(t.created + t.updated)} succeeded (${fmt(t.created)} created, ${fmt(t.updated)} updated), ${fmt(t.failed)} failed, ${fmt(t.invalid)} invalid${t.pending > 0 ? `, ${notDoneYet(t.pending, t.heldBack, fmt)}` : ""}${t.resent > 0 ? ` (${fmt(t.resent)} resent after the interruption)` : ""}`,
    `  ${(s.timings.sessionMs / 1000).toFixed(1)} s, ${count(s.requests, "request")}, ${count(s.retries, "retry", "retries")}, ${fmt(s.rateLimited)} answered 429`,
  ];
  if (s.error) lines.push(`error: ${s.error}`);
  if (firstFailures.length > 0) {
    lines.push(`first failures (all in ${s.files.failed}):`, ...firstFailures.map((f) => `  ${f}`));
  }
  if (t.failed + t.invalid > 0 && result.status === "complete") {
    lines.push(
      `fix the failed rows and load that file again: vbapi upsert ${s.entity} ${shellQuote(s.files.failed)}`,
    );
  }
  lines.push(`run folder: ${runDir}`);
  if (page) lines.push(`report: ${page}`);
  if (result.status === "interrupted") lines.push("interrupted.");
  if (result.status === "stopped-auth")
    lines.push(
      `stopped: the server refused the credentials (401/403)${s.refusedBy ? `: ${s.refusedBy}` : ""}. Fix them, then resume.`,
    );
  if (s.heldBackUntil) lines.push(heldUntilLine(s.heldBackUntil, defaults.timeoutMs));
  if (s.resumeCommand) lines.push(`resume with: ${s.resumeCommand}`);
  // Messages, paths and the server's words: shown, never acted on by the terminal.
  io().stderr.write(`${lines.map(terminalText).join("\n")}\n`);
}

/** Failure groups `vbapi report` prints as text. */
const TEXT_GROUPS = 10;

/** `vbapi report <run-dir>` without --html: the report's facts as lines. */
function textReport(d: ReportData): string[] {
  const t = d.totals;
  const lines = [
    `${d.entity}: ${d.status}${d.exitCode === undefined ? "" : `, exit code ${d.exitCode}`}`,
    ...(d.statusNote ? [`  ${d.statusNote}`] : []),
    ...(d.error ? [`  error: ${d.error}`] : []),
    `${count(t.rows, "row")}: ${fmt(t.created + t.updated)} succeeded (${fmt(t.created)} created, ${fmt(t.updated)} updated), ${fmt(t.failed)} failed, ${fmt(t.invalid)} invalid${t.pending > 0 ? `, ${notDoneYet(t.pending, t.heldBack, fmt)}` : ""}`,
    `${count(d.requests, "request")}, ${count(d.retries, "retry", "retries")}, ${fmt(d.rateLimited)} answered 429, ${count(Math.max(1, d.sessions.length), "session")}`,
    `input: ${d.input.path} (${d.input.size === undefined ? "size unknown" : count(d.input.size, "byte")}, SHA-256 ${d.input.sha256 ?? "-"})`,
    `target: ${d.target.baseUrl}, database ${d.target.database}`,
  ];
  const f = d.failures;
  if (f.rows > 0) {
    lines.push(`failures by message (all ${fmt(f.rows)} in ${d.failedFile}):`);
    for (const g of f.groups.slice(0, TEXT_GROUPS)) {
      const more = g.count > g.firstRows.length ? ", …" : "";
      lines.push(
        `  ${fmt(g.count)} × ${g.status > 0 ? `HTTP ${g.status}: ` : ""}${g.message} (row${g.firstRows.length === 1 && !more ? "" : "s"} ${g.firstRows.join(", ")}${more})`,
      );
    }
    if (f.groups.length > TEXT_GROUPS || f.otherRows > 0)
      lines.push("  … (the HTML report lists more)");
  }
  if (d.heldBackUntil) lines.push(heldUntilLine(d.heldBackUntil, defaults.timeoutMs));
  if (d.next.kind === "resume") lines.push(`resume with: ${d.next.command}`);
  if (d.next.kind === "reload")
    lines.push(`fix the failed rows and load that file again: ${d.next.command}`);
  return lines;
}

export async function reportCommand(
  runDir: string,
  flags: { html?: string | boolean },
): Promise<number> {
  const dir = resolve(runDir);
  let damage: string | undefined;
  try {
    if (flags.html !== undefined) {
      const file = typeof flags.html === "string" ? flags.html : undefined;
      const written = await writeHtmlReport(dir, file);
      damage = written.journalDamage;
      io().stdout.write(`${terminalText(written.path)}\n`);
    } else {
      const data = await loadReportData(dir);
      damage = data.journalDamage;
      io().stdout.write(`${textReport(data).map(terminalText).join("\n")}\n`);
    }
  } catch (error) {
    // Not a run folder or a damaged run.json (the message says so), a file that cannot be read
    // or written (its code and path), or anything else: one line, exit 2, never a stack.
    const e = (error !== null && typeof error === "object" ? error : {}) as NodeJS.ErrnoException;
    if (typeof e.code === "string" && e.code !== "") {
      throw new UsageError(
        `the report failed: ${e.code}${typeof e.path === "string" ? ` (${e.path})` : ""}`,
      );
    }
    const ours = error instanceof Error && error.name === "Error" && error.message !== "";
    throw new UsageError(ours ? error.message : `the report of ${dir} failed: ${reasonOf(error)}`);
  }
  if (damage) io().stderr.write(damageWarning(damage));
  return EXIT.ok;
}

export function addReportCommand(program: Command): void {
  program
    .command("report")
    .description("the report of a run folder: its facts as text, or (--html) as one HTML page")
    .argument("<run-dir>", "the run folder")
    .option(
      "--html [file]",
      `write the report as one self-contained HTML page, to <run-dir>/${REPORT_FILE} unless a file is given, and print its path`,
    )
    .addHelpText(
      "after",
      `\nThe page shows the status and exit code, the input (name, size, SHA-256), the target (base URL,\ndatabase), the totals, requests per second and 429s over time, the failures by message with\ntheir first rows, retries, and how to resume. It loads nothing and runs no script: open it from\ndisk. upsert and resume write it into the run folder at the end of every run.\n\nExamples:\n  vbapi report vbapi-runs/tolerances-20260105-083000-1a2b\n  vbapi report vbapi-runs/tolerances-20260105-083000-1a2b --html\n  vbapi report vbapi-runs/tolerances-20260105-083000-1a2b --html /tmp/load.html`,
    )
    .action(async (runDir: string, flags: { html?: string | boolean }) => {
      setExitCode(await reportCommand(runDir, flags));
    });
}
