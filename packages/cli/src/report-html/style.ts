// The report's only style sheet, inlined in the page; the page's Content-Security-Policy allows
// exactly this text (by its SHA-256), so nothing else can style the page, and nothing can load.
import { createHash } from "node:crypto";

export const CSS = `
:root { --ink: #1c2530; --muted: #5b6673; --line: #dfe3e8; --bg: #f6f7f9; --card: #fff;
  --ok: #2f6fde; --good: #1f8a4c; --warn: #b7791f; --bad: #c0392b; --none: #8a94a0; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--ink);
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
header, main, footer { max-width: 1040px; margin: 0 auto; padding: 0 24px; }
header { padding-top: 28px; }
.eyebrow { margin: 0; color: var(--muted); font-size: 13px; letter-spacing: .04em; text-transform: uppercase; }
h1 { margin: 4px 0 6px; font-size: 28px; display: flex; align-items: center; gap: 12px; flex-wrap: wrap; }
h2 { margin: 0 0 12px; font-size: 17px; }
.lede { margin: 0 0 8px; color: var(--muted); }
.badge { font-size: 13px; font-weight: 600; padding: 3px 10px; border-radius: 999px; color: #fff; }
.badge.good { background: var(--good); } .badge.warn { background: var(--warn); }
.badge.bad { background: var(--bad); } .badge.neutral { background: var(--none); }
.badge.outline { color: var(--muted); background: none; border: 1px solid var(--line); font-weight: 500; }
dl.stats { margin-top: 16px; } dl + table { margin-top: 16px; }
.alert { margin: 8px 0; padding: 10px 14px; border-left: 4px solid var(--warn); background: #fff8eb; }
.alert.bad { border-color: var(--bad); background: #fdf0ee; }
section { background: var(--card); border: 1px solid var(--line); border-radius: 10px;
  padding: 18px 20px; margin: 16px 0; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(140px, 1fr)); gap: 12px; }
.card { border: 1px solid var(--line); border-radius: 8px; padding: 10px 14px; }
.card .n { display: block; font-size: 26px; font-weight: 650; font-variant-numeric: tabular-nums; }
.card .l { color: var(--muted); font-size: 13px; }
.card.good .n { color: var(--good); } .card.bad .n { color: var(--bad); } .card.warn .n { color: var(--warn); }
.share { display: block; width: 100%; height: 10px; margin-top: 14px; border-radius: 5px; }
.share .s-good { fill: var(--good); } .share .s-bad { fill: var(--bad); }
.share .s-warn { fill: var(--warn); } .share .s-none { fill: var(--line); }
.grid2 { display: grid; grid-template-columns: 1fr 1fr; gap: 16px; margin: 16px 0; }
.grid2 section { margin: 0; }
@media (max-width: 760px) { .grid2 { grid-template-columns: 1fr; } }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 6px 16px; margin: 0; }
dt { color: var(--muted); } dd { margin: 0; overflow-wrap: anywhere; }
code, pre { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 13px; }
pre { margin: 8px 0 0; padding: 10px 12px; background: #0f1720; color: #e6edf3; border-radius: 6px;
  white-space: pre-wrap; overflow-wrap: anywhere; }
.hash { word-break: break-all; }
table { width: 100%; border-collapse: collapse; font-size: 14px; }
th { text-align: left; color: var(--muted); font-weight: 600; border-bottom: 2px solid var(--line); padding: 6px 8px; }
td { border-bottom: 1px solid var(--line); padding: 6px 8px; vertical-align: top; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.msg { white-space: pre-wrap; overflow-wrap: anywhere; }
.muted, figcaption { color: var(--muted); font-size: 13px; }
.chart { margin: 0; }
.chart svg { display: block; width: 100%; height: auto; }
.chart .grid { stroke: var(--line); } .chart .axis-line { stroke: var(--muted); }
.chart .tick { stroke: var(--muted); }
.chart .axis { fill: var(--muted); font-size: 11px; font-family: inherit; }
.chart .ok { fill: var(--ok); } .chart .limited { fill: var(--bad); } .chart .none { fill: var(--none); }
.chart .limit { stroke: var(--warn); stroke-width: 1.5; stroke-dasharray: 6 4; }
.chart .limit-label { fill: var(--warn); }
.chart .session { stroke: var(--muted); stroke-dasharray: 3 3; }
.key { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin: 0 4px 0 10px; }
.key:first-child { margin-left: 0; }
.key.ok { background: var(--ok); } .key.limited { background: var(--bad); } .key.none { background: var(--none); }
.key.limit { height: 0; border-top: 2px dashed var(--warn); border-radius: 0; vertical-align: middle; }
footer { padding-bottom: 32px; color: var(--muted); font-size: 13px; }
`;

/** The Content-Security-Policy of the page: nothing loads, nothing runs, only CSS styles it. */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  `style-src 'sha256-${createHash("sha256").update(CSS).digest("base64")}'`,
  "img-src data:",
  "base-uri 'none'",
  "form-action 'none'",
].join("; ");
