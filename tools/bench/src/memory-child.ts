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
globalThis.gc?.();
const baseline = process.memoryUsage().rss;
let peak = baseline;
const timer = setInterval(() => {
  peak = Math.max(peak, process.memoryUsage().rss);
}, 5);
const t0 = performance.now();
const report = await upsertAllEvents(client, stream(count));
const elapsedMs = performance.now() - t0;
clearInterval(timer);
peak = Math.max(peak, process.memoryUsage().rss);
process.send?.({
  count,
  baseline,
  peak,
  growth: peak - baseline,
  elapsedMs,
  upserted: report.totals.created + report.totals.updated,
});
