// The end of a run, for a person (stderr), or the final --json event: upsert and resume.
import { count, fmt } from "../count.ts";
import type { Display } from "../display.ts";
import { terminalText } from "../safe-text.ts";
import type { SessionResult } from "../session/session.ts";
import { shellQuote } from "../shell-quote.ts";

/** The fields of summary.json the report reads. */
interface ReportedSummary {
  entity: string;
  totals: {
    rows: number;
    created: number;
    updated: number;
    failed: number;
    invalid: number;
    pending: number;
    resent: number;
  };
  requests: number;
  retries: number;
  rateLimited: number;
  timings: { sessionMs: number };
  files: { failed: string; succeeded: string };
  resumeCommand?: string;
  error?: string;
  refusedBy?: string;
  firstFailures: string[];
}

export function report(display: Display, runDir: string, result: SessionResult): void {
  const s = result.summary as unknown as ReportedSummary;
  const { firstFailures, ...summary } = s;
  display.event("done", { runDir, ...summary });
  if (display.mode === "json") return;
  const t = s.totals;
  const lines = [
    `${s.entity}: ${count(t.rows, "row")}: ${fmt(t.created + t.updated)} succeeded (${fmt(t.created)} created, ${fmt(t.updated)} updated), ${fmt(t.failed)} failed, ${fmt(t.invalid)} invalid${t.pending > 0 ? `, ${fmt(t.pending)} not done yet` : ""}${t.resent > 0 ? ` (${fmt(t.resent)} resent after the interruption)` : ""}`,
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
  if (result.status === "interrupted") lines.push("interrupted.");
  if (result.status === "stopped-auth")
    lines.push(
      `stopped: the server refused the credentials (401/403)${s.refusedBy ? `: ${s.refusedBy}` : ""}. Fix them, then resume.`,
    );
  if (s.resumeCommand) lines.push(`resume with: ${s.resumeCommand}`);
  // Messages, paths and the server's words: shown, never acted on by the terminal.
  process.stderr.write(`${lines.map(terminalText).join("\n")}\n`);
}
