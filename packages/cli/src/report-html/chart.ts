// The timeline chart: requests per second over the run, as an inline SVG (no script). Columns
// stack the requests answered, those answered 429 and those that got no answer; the rate limit
// is a dashed line. Sessions (a run and its resumes) follow each other, separated by a dashed
// rule, each counted from its own start. Hovering a column shows its numbers (SVG <title>).
import type { Bin, Timeline, TimelineSession } from "./data.ts";
import { type Html, html } from "./html.ts";

const W = 960;
const H = 260;
const LEFT = 52;
const RIGHT = 12;
const TOP = 14;
const BOTTOM = 36;
const PLOT_W = W - LEFT - RIGHT;
const PLOT_H = H - TOP - BOTTOM;
/** At most this many columns (plus one gap per session): longer runs get columns of several seconds. */
const MAX_COLUMNS = 120;
/** At least this many (a short run does not get a few very wide bars). */
const MIN_COLUMNS = 10;
const STEPS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21600, 43200, 86400];

/** `m:ss` or `h:mm:ss`. */
export function clock(seconds: number): string {
  const s = Math.round(seconds);
  const pad = (n: number) => String(n).padStart(2, "0");
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h > 0 ? `${h}:${pad(m)}:${pad(s % 60)}` : `${m}:${pad(s % 60)}`;
}

/** The smallest 1, 2, 2.5 or 5 × 10^k at or above `n`. */
function niceCeil(n: number): number {
  if (n <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(n));
  const m = [1, 2, 2.5, 5, 10].find((f) => f * p >= n - 1e-9) ?? 10;
  return m * p;
}

const rate = (n: number) => (Number.isInteger(n) ? String(n) : n.toFixed(1));
/** A coordinate, to a tenth of a unit. */
const at = (n: number) => Math.round(n * 10) / 10;

interface Column {
  session: number;
  /** Seconds since the session's start. */
  from: number;
  to: number;
  bin: Bin;
}

function columnsOf(s: TimelineSession, step: number): Column[] {
  const count = Math.ceil(s.seconds / step);
  const columns: Column[] = Array.from({ length: count }, (_, i) => ({
    session: s.session,
    from: i * step,
    to: Math.min((i + 1) * step, s.seconds),
    bin: { requests: 0, rateLimited: 0, noAnswer: 0 },
  }));
  for (const [second, bin] of s.bins) {
    const c = columns[Math.floor(second / step)];
    if (c === undefined) continue;
    c.bin.requests += bin.requests;
    c.bin.rateLimited += bin.rateLimited;
    c.bin.noAnswer += bin.noAnswer;
  }
  return columns;
}

/**
 * Seconds per column, so that `total` seconds take at most MAX_COLUMNS columns: a step of the
 * table, or beyond it (a run of months, or a journal's clock gone wrong) whatever it takes.
 */
export function stepFor(total: number): number {
  return STEPS.find((s) => total / s <= MAX_COLUMNS) ?? Math.max(1, Math.ceil(total / MAX_COLUMNS));
}

/** The chart and a sentence under it; `rateLimit` in requests per second (undefined: off). */
export function timelineChart(timeline: Timeline, rateLimit: number | undefined): Html {
  const sessions = timeline.sessions;
  const total = sessions.reduce((n, s) => n + s.seconds, 0);
  const step = stepFor(total);
  const perSession = sessions.map((s) => columnsOf(s, step));
  const used = perSession.reduce((n, c) => n + c.length, 0) + sessions.length - 1;
  const slots = Math.max(used, MIN_COLUMNS);
  const slot = PLOT_W / slots;
  // A loop, not Math.max(...rates): spreading a long array overflows the stack.
  let peak = 0;
  for (const columns of perSession) {
    for (const c of columns) peak = Math.max(peak, c.bin.requests / (c.to - c.from));
  }
  const limitShown = rateLimit !== undefined && rateLimit <= Math.max(peak, 1) * 2;
  const yMax = niceCeil(Math.max(peak, limitShown ? (rateLimit as number) : 0, 1));
  const y = (r: number) => at(TOP + PLOT_H - (r / yMax) * PLOT_H);

  const grid = [0, 1, 2, 3, 4].map((i) => {
    const v = (yMax * i) / 4;
    return html`<line class="grid" x1="${LEFT}" x2="${W - RIGHT}" y1="${y(v)}" y2="${y(v)}"/><text class="axis" x="${LEFT - 6}" y="${y(v) + 4}" text-anchor="end">${rate(v)}</text>`;
  });
  const bars: Html[] = [];
  const marks: Html[] = [];
  // About eight labelled ticks, on whole columns.
  const tickEvery =
    STEPS.find((s) => s % step === 0 && s >= total / 8) ?? step * Math.ceil(total / 8 / step);
  let x = LEFT;
  perSession.forEach((columns, i) => {
    const s = sessions[i] as TimelineSession;
    if (i > 0) {
      marks.push(
        html`<line class="session" x1="${at(x + slot / 2)}" x2="${at(x + slot / 2)}" y1="${TOP}" y2="${TOP + PLOT_H}"/><text class="axis" x="${at(x + slot)}" y="${TOP + 10}">session ${s.session}</text>`,
      );
      x += slot;
    }
    columns.forEach((c, j) => {
      const cx = at(x + j * slot);
      if (c.from % tickEvery === 0) {
        marks.push(
          html`<line class="tick" x1="${cx}" x2="${cx}" y1="${TOP + PLOT_H}" y2="${TOP + PLOT_H + 4}"/><text class="axis" x="${cx}" y="${TOP + PLOT_H + 16}" text-anchor="middle">${clock(c.from)}</text>`,
        );
      }
      const { requests, rateLimited, noAnswer } = c.bin;
      if (requests === 0) return;
      const width = c.to - c.from;
      const answered = requests - rateLimited - noAnswer;
      const w = Math.max(1, slot * 0.8);
      let top = y(0);
      const rects = (
        [
          ["ok", answered],
          ["limited", rateLimited],
          ["none", noAnswer],
        ] as const
      ).map(([kind, n]) => {
        if (n === 0) return "";
        const h = (n / width / yMax) * PLOT_H;
        top -= h;
        return html`<rect class="${kind}" x="${at(cx + slot * 0.1)}" y="${at(top)}" width="${at(w)}" height="${at(h)}"/>`;
      });
      const when = `${sessions.length > 1 ? `session ${s.session}, ` : ""}${clock(c.from)}–${clock(c.to)}`;
      const what = `${requests} request${requests === 1 ? "" : "s"} (${rate(requests / width)}/s)${rateLimited ? `, ${rateLimited} answered 429` : ""}${noAnswer ? `, ${noAnswer} without an answer` : ""}`;
      bars.push(html`<g><title>${when}: ${what}</title>${rects}</g>`);
    });
    x += columns.length * slot;
  });
  const limit =
    limitShown && rateLimit !== undefined
      ? html`<line class="limit" x1="${LEFT}" x2="${W - RIGHT}" y1="${y(rateLimit)}" y2="${y(rateLimit)}"/><text class="axis limit-label" x="${W - RIGHT - 4}" y="${y(rateLimit) - 4}" text-anchor="end">rate limit ${rate(rateLimit)}/s</text>`
      : "";
  const unit = step === 1 ? "per second" : `per second, averaged over ${step} s`;
  const sentence = describe(perSession, rateLimit, limitShown);
  return html`<figure class="chart">
<svg viewBox="0 0 ${W} ${H}" role="img" aria-labelledby="chart-title" xmlns="http://www.w3.org/2000/svg">
<title id="chart-title">Requests per second over the run (${unit}): ${sentence}</title>
${grid}${bars}${marks}${limit}
<line class="axis-line" x1="${LEFT}" x2="${W - RIGHT}" y1="${y(0)}" y2="${y(0)}"/>
<text class="axis" x="${LEFT + PLOT_W / 2}" y="${H - 4}" text-anchor="middle">time since the session started (m:ss)</text>
<text class="axis" x="12" y="${TOP + PLOT_H / 2}" text-anchor="middle" transform="rotate(-90 12 ${TOP + PLOT_H / 2})">requests/s</text>
</svg>
<figcaption><span class="key ok"></span>answered <span class="key limited"></span>answered 429 <span class="key none"></span>no answer${limitShown ? html` <span class="key limit"></span>rate limit` : ""}<br>Requests ${unit}, by when they settled. ${sentence}</figcaption>
</figure>`;
}

/** The chart in one sentence: the peak, and when the 429s came. */
function describe(
  perSession: Column[][],
  rateLimit: number | undefined,
  limitShown: boolean,
): string {
  const columns = perSession.flat();
  let peak: Column | undefined;
  let first429: Column | undefined;
  let limited = 0;
  for (const c of columns) {
    const r = c.bin.requests / (c.to - c.from);
    if (peak === undefined || r > peak.bin.requests / (peak.to - peak.from)) peak = c;
    if (c.bin.rateLimited > 0) first429 ??= c;
    limited += c.bin.rateLimited;
  }
  const when = (c: Column) =>
    `${perSession.length > 1 ? `session ${c.session}, ` : ""}${clock(c.from)}`;
  const parts: string[] = [];
  if (peak)
    parts.push(
      `Peak ${rate(peak.bin.requests / (peak.to - peak.from))} requests/s at ${when(peak)}`,
    );
  if (rateLimit !== undefined)
    parts.push(`rate limit ${rate(rateLimit)}/s${limitShown ? "" : " (above the chart)"}`);
  parts.push(first429 ? `${limited} answered 429, the first at ${when(first429)}` : "no 429");
  return `${parts.join("; ")}.`;
}
