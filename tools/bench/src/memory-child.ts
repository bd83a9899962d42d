// One memory run in a fresh process: streams `count` generated events from an async iterable
// through upsertAllEvents (rate limit off, server in another process) while sampling RSS.
// argv: <url> <count> <mode> [settleMs]; mode "stream": report "totals" with every settled record passed
// to onRecord (and counted), so nothing per record is kept; "full": the default report, whose
// items stay reachable after the run (its heap per record is measured).
import { type BulkItem, type EntityRecord, upsertAllEvents } from "@vbapi-sdk/client";
import { events } from "@vbapi-sdk/tool-demo/sample-data.ts";
import { benchClient } from "./server.ts";

const [url = "", countArg = "0", mode = "stream", settleArg = "2000"] = process.argv.slice(2);
const count = Number(countArg);
/** How long the timers a run leaves behind get to fire before the heap without the report is read. */
const settleMs = Number(settleArg);
if (!url || !(count > 0) || (mode !== "stream" && mode !== "full") || !(settleMs >= 0)) {
  throw new Error(
    `memory-child: usage <url> <count> <stream|full> [settleMs] (got ${process.argv.slice(2).join(" ")})`,
  );
}
/** Keys cycle, so the server holds at most this many records whatever `count` is. */
const DISTINCT_KEYS = 50_000;

async function* stream(n: number): AsyncGenerator<EntityRecord<"Event">> {
  let i = 0;
  for (const event of events(n, 41)) {
    event.event_ID = 1 + (i++ % DISTINCT_KEYS);
    yield event;
  }
}

const client = benchClient(url);
const settled = { ok: 0, failed: 0 };
const onRecord = (item: BulkItem) => {
  if (item.outcome === "created" || item.outcome === "updated") settled.ok++;
  else settled.failed++;
};
const options = mode === "stream" ? ({ report: "totals", onRecord } as const) : {};
await upsertAllEvents(client, stream(2_000), options); // warm-up: load and JIT every code path
settled.ok = 0;
settled.failed = 0;
const gc = globalThis.gc ?? (() => {}); // the parent passes --expose-gc
const heap = () => {
  gc();
  return process.memoryUsage().heapUsed;
};
const heapBefore = heap();
const baseline = process.memoryUsage().rss;
let peak = baseline;
const timer = setInterval(() => {
  peak = Math.max(peak, process.memoryUsage().rss);
}, 5);
const t0 = performance.now();
let report: Awaited<ReturnType<typeof upsertAllEvents>> | undefined = await upsertAllEvents(
  client,
  stream(count),
  options,
);
const elapsedMs = performance.now() - t0;
clearInterval(timer);
peak = Math.max(peak, process.memoryUsage().rss);
const upserted = report.totals.created + report.totals.updated;
const items = report.items.length;
// What the returned report keeps reachable: heap with it, then without it. The wait lets
// timers the run left behind fire (they keep the run alive for a moment).
const heapWithReport = heap() - heapBefore;
report = undefined;
await new Promise((resolve) => setTimeout(resolve, settleMs));
const heapWithoutReport = heap() - heapBefore;
process.send?.({
  mode,
  count,
  baseline,
  peak,
  growth: peak - baseline,
  elapsedMs,
  upserted,
  onRecordUpserted: settled.ok,
  items,
  heapRetainedByReport: heapWithReport - heapWithoutReport,
});
