// The report page: one HTML document, self-contained (the style sheet inline, the chart an inline
// SVG, no script, no font, no image, nothing fetched). Every value from the run folder goes
// through `html`, which escapes it.
import { count, fmt } from "../count.ts";
import { HELD_BACK, heldBackReason } from "../exit.ts";
import { timelineChart } from "./chart.ts";
import type { ReportData } from "./data.ts";
import { type Html, html, raw } from "./html.ts";
import { CONTENT_SECURITY_POLICY, CSS } from "./style.ts";

/** Failure groups listed; the rest are summed up in one line. */
const GROUPS_SHOWN = 25;

const EXIT_MEANING: Record<number, string> = {
  0: "every row succeeded",
  1: "some rows failed, were invalid or are not done yet",
  2: "usage, input or configuration error, or VBA could not be reached",
  3: "stopped: the server refused the credentials",
  130: "interrupted",
};

type Tone = "good" | "warn" | "bad" | "neutral";

/** Why a finished run's rows are not done yet (summary.json's heldBack, absent before it). */
function notDoneWhy({ pending, heldBack }: ReportData["totals"]): string {
  const reason = heldBackReason(pending, heldBack, fmt);
  if (reason === undefined) return `${HELD_BACK}, or not reported on`;
  return heldBack >= pending ? reason : `${reason}; the others not reported on`;
}

function headline(d: ReportData): { label: string; tone: Tone; text: string } {
  const failed = d.totals.failed + d.totals.invalid;
  switch (d.status) {
    case "complete":
      return failed === 0 && d.totals.pending === 0
        ? { label: "complete", tone: "good", text: "Every row succeeded." }
        : {
            label: "complete",
            tone: "warn",
            text: `The run finished; ${[
              failed > 0 &&
                `${count(failed, "row")} failed or ${failed === 1 ? "was" : "were"} invalid.`,
              d.totals.pending > 0 &&
                `${count(d.totals.pending, "row")} ${d.totals.pending === 1 ? "is" : "are"} not done yet (${notDoneWhy(d.totals)})${d.next.kind === "resume" ? `: vbapi resume sends ${d.totals.pending === 1 ? "it" : "them"}${d.heldBackUntil ? ` after ${d.heldBackUntil}` : ""}` : ""}.`,
            ]
              .filter(Boolean)
              .join(" ")}`,
          };
    case "interrupted":
      return {
        label: "interrupted",
        tone: "warn",
        text: "Stopped by Ctrl-C or SIGTERM: the rows not done yet are sent by vbapi resume.",
      };
    case "stopped-auth":
      return {
        label: "stopped",
        tone: "bad",
        text: "The server refused the credentials (401/403).",
      };
    case "unreachable":
      return {
        label: "unreachable",
        tone: "bad",
        text: "VBA could not be reached; the rows not done yet are sent by vbapi resume.",
      };
    case "input-error":
      return {
        label: "input error",
        tone: "bad",
        text: "The input broke off; the rows before it were sent.",
      };
    case "error":
      return { label: "error", tone: "bad", text: "The run stopped on an error." };
    case "unfinished":
      return { label: "unfinished", tone: "neutral", text: "The run did not finish." };
    default:
      return { label: d.status, tone: "neutral", text: "" };
  }
}

/** `4.1 s`, `2 min 05 s`, `1 h 02 min`. */
export function duration(ms: number): string {
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${String(Math.floor(s % 60)).padStart(2, "0")} s`;
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, "0")} min`;
}

function bytes(n: number | undefined): string {
  if (n === undefined) return "unknown (read from a pipe)";
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let v = n;
  let unit = "";
  for (const u of units) {
    if (v < 1024) break;
    v /= 1024;
    unit = u;
  }
  return unit ? `${count(n, "byte")} (${v.toFixed(1)} ${unit})` : count(n, "byte");
}

/** An ISO time as `2026-01-05 08:30:00 UTC`; anything else as it is. */
function time(iso: string | undefined): string {
  if (iso === undefined) return "-";
  const m = /^(\d{4}-\d\d-\d\d)T(\d\d:\d\d:\d\d)(\.\d+)?Z$/.exec(iso);
  return m ? `${m[1]} ${m[2]} UTC` : iso;
}

function totals(d: ReportData): Html {
  const t = d.totals;
  const cards: [string, number, Tone | "", string][] = [
    ["rows", t.rows, "", ""],
    [
      "succeeded",
      t.created + t.updated,
      "good",
      `${fmt(t.created)} created, ${fmt(t.updated)} updated`,
    ],
    ["failed", t.failed, t.failed > 0 ? "bad" : "", "refused, or never answered"],
    ["invalid", t.invalid, t.invalid > 0 ? "bad" : "", "never sent"],
  ];
  if (t.pending > 0) cards.push(["not done yet", t.pending, "warn", "sent again by resume"]);
  if (t.resent > 0) cards.push(["resent", t.resent, "", "after an interruption"]);
  const parts: [string, number][] = [
    ["s-good", t.created + t.updated],
    ["s-bad", t.failed + t.invalid],
    ["s-warn", t.pending],
  ];
  let x = 0;
  const share = parts.map(([cls, n]) => {
    if (t.rows === 0 || n === 0) return "";
    const w = (n / t.rows) * 1000;
    x += w;
    return html`<rect class="${cls}" x="${Math.round(x - w)}" y="0" width="${Math.max(2, Math.round(w))}" height="10"/>`;
  });
  return html`<section aria-label="Totals"><div class="cards">${cards.map(
    ([label, n, tone, note]) =>
      html`<div class="card ${tone}"><span class="n" data-total="${label}">${fmt(n)}</span><span class="l">${label}${note ? html`<br>${note}` : ""}</span></div>`,
  )}</div><svg class="share" viewBox="0 0 1000 10" preserveAspectRatio="none" aria-hidden="true"><rect class="s-none" x="0" y="0" width="1000" height="10"/>${share}</svg></section>`;
}

function nextStep(d: ReportData): Html {
  const n = d.next;
  const body =
    n.kind === "resume"
      ? html`<p>The run can continue where it stopped: rows already final are skipped, rows that may have been in flight are sent again.</p><pre><code>${n.command}</code></pre>`
      : n.kind === "reload"
        ? html`<p>Fix the rows in <code>${n.file}</code> (each says why in <code>_message</code>) and load that file again:</p><pre><code>${n.command}</code></pre>`
        : d.status === "unfinished"
          ? html`<p>This run read standard input or a pipe, which cannot be read again: load the rows that are in neither result file from a file.</p>`
          : html`<p>Nothing to do: no row is left to load.</p>`;
  return html`<section><h2>Next step</h2>${body}</section>`;
}

function failures(d: ReportData): Html {
  const f = d.failures;
  if (f.rows === 0) {
    return html`<section><h2>Failures</h2><p>No failed or invalid rows.</p></section>`;
  }
  const shown = f.groups.slice(0, GROUPS_SHOWN);
  const rest = f.groups.slice(GROUPS_SHOWN);
  const restRows = rest.reduce((n, g) => n + g.count, 0) + f.otherRows;
  const rows = shown.map(
    (g) =>
      html`<tr><td class="num">${fmt(g.count)}</td><td>${g.status > 0 ? `HTTP ${g.status}` : "-"}</td><td class="msg">${g.message}</td><td>${g.firstRows.join(", ")}${g.count > g.firstRows.length ? ", …" : ""}</td></tr>`,
  );
  const noStatus = shown.some((g) => g.status === 0)
    ? html`<p class="muted">Status -: no HTTP status, the row was invalid and never sent, or its request got no answer.</p>`
    : "";
  return html`<section><h2>Failures</h2><p>${count(f.rows, "row")} in <code>${d.failedFile}</code>, by message:</p>
<table><thead><tr><th class="num">rows</th><th>status</th><th>message</th><th>first rows</th></tr></thead><tbody>${rows}</tbody></table>${noStatus}
${restRows > 0 ? html`<p class="muted">And ${count(restRows, "row")} with ${count(rest.length + (f.otherRows > 0 ? 1 : 0), "other message")} (all in the file).</p>` : ""}
${f.mayHaveBeenApplied > 0 ? html`<p class="alert">${count(f.mayHaveBeenApplied, "failed row")} may have been applied by the server anyway (a request timed out or lost its connection): check them before loading them again (<code>_mayHaveBeenApplied</code>).</p>` : ""}</section>`;
}

function requests(d: ReportData): Html {
  const seconds = d.totalMs / 1000;
  const sessions =
    d.sessions.length > 1
      ? html`<table><thead><tr><th>session</th><th>started</th><th class="num">requests</th><th class="num">retries</th><th class="num">429s</th><th class="num">time</th></tr></thead><tbody>${d.sessions.map(
          (s) =>
            html`<tr><td>${s.session}</td><td>${time(s.startedAt)}</td><td class="num">${fmt(s.stats.requests)}</td><td class="num">${fmt(s.stats.retries)}</td><td class="num">${fmt(s.stats.rateLimited)}</td><td class="num">${duration(s.stats.elapsedMs)}</td></tr>`,
        )}</tbody></table>`
      : "";
  const chart = d.timeline.missing
    ? html`<p class="muted">No chart: ${d.timeline.missing}</p>`
    : html`${timelineChart(d.timeline, d.rateLimit)}${
        d.timeline.untimedSessions.length > 0
          ? html`<p class="muted">Not in the chart: ${count(d.timeline.untimedSessions.length, "session")} (${d.timeline.untimedSessions.join(", ")}) written by an earlier version of vbapi, whose journal has no request times.</p>`
          : ""
      }`;
  return html`<section><h2>Requests over time</h2>${chart}<dl class="stats">
<dt>requests</dt><dd data-total="requests">${fmt(d.requests)}${seconds > 0 ? ` (${(d.requests / seconds).toFixed(1)}/s on average)` : ""}</dd>
<dt>retries</dt><dd data-total="retries">${fmt(d.retries)}</dd>
<dt>answered 429</dt><dd data-total="rateLimited">${fmt(d.rateLimited)}</dd>
<dt>rate limit</dt><dd>${d.rateLimit === undefined ? "off" : `${d.rateLimit} requests/s`}</dd>
<dt>time</dt><dd>${duration(d.totalMs)} in ${count(Math.max(1, d.sessions.length), "session")}</dd>
<dt>started</dt><dd>${time(d.createdAt)}</dd>
<dt>finished</dt><dd>${time(d.finishedAt)}</dd>
</dl>${sessions}</section>`;
}

function facts(d: ReportData): Html {
  const i = d.input;
  const t = d.target;
  return html`<div class="grid2"><section><h2>Input</h2><dl>
<dt>name</dt><dd>${i.name}</dd>
<dt>path</dt><dd><code>${i.path}</code></dd>
<dt>size</dt><dd>${bytes(i.size)}</dd>
<dt>SHA-256</dt><dd><code class="hash">${i.sha256 ?? "-"}</code></dd>
<dt>format</dt><dd>${i.format}${i.gzip ? ", gzip" : ""}${i.delimiter ? `, delimiter ${JSON.stringify(i.delimiter)}` : ""}</dd>
</dl></section><section><h2>Target</h2><dl>
<dt>entity</dt><dd>${d.entity}</dd>
<dt>base URL</dt><dd><code>${t.baseUrl}</code>${t.removed ? ` (${t.removed} not shown)` : ""}</dd>
<dt>database</dt><dd><code>${t.database}</code></dd>
${t.pathParams ? html`<dt>path parameters</dt><dd>${t.pathParams}</dd>` : ""}
</dl></section></div>`;
}

/** The whole page. */
export function reportPage(d: ReportData): string {
  const h = headline(d);
  const exit =
    d.exitCode === undefined
      ? html`<span class="badge outline" data-exit-code="">no exit code</span>`
      : html`<span class="badge outline" data-exit-code="${d.exitCode}" title="${EXIT_MEANING[d.exitCode] ?? ""}">exit code ${d.exitCode}</span>`;
  const alerts = [
    d.statusNote ? html`<p class="alert">${d.statusNote}</p>` : "",
    d.journalDamage ? html`<p class="alert">${d.journalDamage}.</p>` : "",
    d.error ? html`<p class="alert bad">${d.error}</p>` : "",
    d.refusedBy ? html`<p class="alert bad">The server said: ${d.refusedBy}</p>` : "",
  ];
  const versions = [
    d.versions.cli ? `vbapi ${d.versions.cli}` : "",
    d.versions.sdk ? `SDK ${d.versions.sdk}` : "",
  ]
    .filter(Boolean)
    .join(", ");
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${CONTENT_SECURITY_POLICY}">
<meta name="referrer" content="no-referrer">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>vbapi run: ${d.entity}, ${h.label}</title>
<link rel="icon" href="data:,">
<style>${raw(CSS)}</style>
</head>
<body>
<header>
<p class="eyebrow">vbapi run report</p>
<h1>${d.entity} <span class="badge ${h.tone}" data-status="${d.status}">${h.label}</span>${exit}</h1>
<p class="lede">${h.text}</p>
${alerts}
</header>
<main>
${totals(d)}
${nextStep(d)}
${failures(d)}
${requests(d)}
${facts(d)}
</main>
<footer>Run folder <code>${d.runDir}</code>${versions ? ` (run with ${versions})` : ""}. Report written by vbapi ${d.cliVersion} at ${time(d.generatedAt)}: one file, no script, nothing loaded from anywhere; it opens from disk.</footer>
</body>
</html>
`.text;
}
