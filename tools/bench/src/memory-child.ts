// One memory run in a fresh process: streams `count` generated events from an async iterable
// through upsertAllEvents (rate limit off) while sampling RSS; reports baseline and peak.
import { type EntityRecord, upsertAllEvents } from "@vbapi-sdk/client";
import { events } from "@vbapi-sdk/tool-demo/sample-data.ts";
import { benchClient } from "./server.ts";

const [url = "", countArg = "0"] = process.argv.slice(2);
const count = Number(countArg);
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
await upsertAllEvents(client, stream(2_000)); // warm-up: load and JIT every code path
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
);
const elapsedMs = performance.now() - t0;
clearInterval(timer);
peak = Math.max(peak, process.memoryUsage().rss);
const upserted = report.totals.created + report.totals.updated;
// What the returned report keeps reachable: heap with it, then without it. The wait lets
// timers the run left behind fire (they keep the run alive for a moment).
const heapWithReport = heap() - heapBefore;
report = undefined;
await new Promise((resolve) => setTimeout(resolve, 2_000));
const heapWithoutReport = heap() - heapBefore;
process.send?.({
  count,
  baseline,
  peak,
  growth: peak - baseline,
  elapsedMs,
  upserted,
  heapRetainedByReport: heapWithReport - heapWithoutReport,
});
