// 4. Memory: peak RSS growth while streaming 100k and 1M generated records, each run in a
// fresh child process (rate limit off). Flat means the 1M growth is within 1.5x of 100k's.
import { type BenchResult, verdict } from "./report.ts";
import { forkTs, startServer } from "./server.ts";
import { fmt, round } from "./stats.ts";

interface ChildResult {
  count: number;
  baseline: number;
  peak: number;
  growth: number;
  elapsedMs: number;
  upserted: number;
  /** Heap still reachable through the returned report after the run (after a full GC). */
  heapRetainedByReport: number;
}

function runChild(url: string, count: number): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const child = forkTs("./memory-child.ts", [url, String(count)], ["--expose-gc"]);
    let result: ChildResult | undefined;
    child.on("message", (msg: ChildResult) => {
      result = msg;
      child.disconnect();
    });
    child.on("exit", (code) =>
      result ? resolve(result) : reject(new Error(`memory child exited with code ${code}`)),
    );
  });
}

export async function memory({ quick }: { quick: boolean }): Promise<BenchResult> {
  const [small, large] = quick ? [5_000, 50_000] : [100_000, 1_000_000];
  const server = await startServer({ rateLimit: false });
  const runs: ChildResult[] = [];
  try {
    for (const count of [small, large]) {
      await server.reset();
      runs.push(await runChild(server.url, count));
    }
  } finally {
    await server.close();
  }
  const [a, b] = runs as [ChildResult, ChildResult];
  const ratio = b.growth / a.growth;
  const notes: string[] = runs
    .filter((r) => r.upserted !== r.count)
    .map((r) => `memory: only ${r.upserted} of ${r.count} streamed records were upserted`);
  if (ratio > 1.5) {
    const perRecord = (b.growth - a.growth) / (b.count - a.count);
    notes.push(
      `memory: peak RSS grows with the record count (~${perRecord.toFixed(0)} bytes per extra record). ` +
        `The returned report alone keeps ${(b.heapRetainedByReport / b.count).toFixed(0)} bytes of heap per record ` +
        `(${fmt.mb(b.heapRetainedByReport)} for ${fmt.int(b.count)}): one BulkItem per input record; the rest is ` +
        "garbage-collector headroom that grows with the live heap.",
    );
  }
  const section = "memory, streaming";
  return {
    name: "memory",
    figures: {
      runs: runs.map((r) => ({
        ...r,
        recordsPerSecond: round((r.count / r.elapsedMs) * 1000, 0),
        elapsedMs: round(r.elapsedMs, 1),
      })),
      growthRatio: round(ratio),
    },
    rows: [
      ...runs.map((r) => ({
        section,
        figure: `${fmt.int(r.count)} records: peak RSS growth`,
        value: `${fmt.mb(r.growth)} (report holds ${fmt.mb(r.heapRetainedByReport)}; ${fmt.rate((r.count / r.elapsedMs) * 1000)})`,
      })),
      {
        section,
        figure: `growth ${fmt.int(large)} / ${fmt.int(small)}`,
        value: fmt.ratio(ratio),
        target: "<= 1.5x",
        verdict: verdict(ratio <= 1.5),
      },
    ],
    notes,
  };
}
