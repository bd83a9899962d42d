// 1. Realistic bulk (issue 12 item 1): the reference server (own process) answers each batch
// after a simulated round trip and enforces VBA's limit (25 requests/s, burst 50). 20,000 events:
//   (a) upsertAllEvents, chunks of 100, default concurrency
//   (b) upsertAllEvents with every default (chunks of 500, default concurrency)
//   (c) a naive sequential loop of 100-record chunks (raw fetch)
// Targets: (a) and (b) within 1.05x of the token bucket's minimum, and >= 3x the naive loop.
import { upsertAllEvents } from "@vbapi-sdk/client";
import { events } from "@vbapi-sdk/tool-demo/sample-data.ts";
import { naiveLoop } from "./naive.ts";
import { type BenchResult, type Row, verdict } from "./report.ts";
import { benchClient, type ServerHandle, startServer } from "./server.ts";
import { fmt, round, tokenBucketMinimumMs } from "./stats.ts";

export const RATE = 25;
export const BURST = 50;
const CHUNK = 100;
/** The engine's default chunk size, for counting (b)'s requests. */
const DEFAULT_CHUNK = 500;

interface Run {
  label: string;
  chunkSize: number;
  wallMs: number;
  /** HTTP requests the server saw (retries included). */
  requests: number;
  /** 429 answers from the server's rate limiter. */
  http429: number;
  /** Token-bucket minimum for the requests this run needs. */
  minimumMs: number;
}

async function timed(
  server: ServerHandle,
  label: string,
  chunkSize: number,
  count: number,
  latencyMs: number,
  fn: () => Promise<number>,
): Promise<Run> {
  await server.reset(); // empties the store and refills the server's bucket
  const t0 = performance.now();
  const upserted = await fn();
  const wallMs = performance.now() - t0;
  const { stats } = await server.snapshot();
  if (upserted !== count)
    throw new Error(`${label}: ${count - upserted} of ${count} records not upserted`);
  const needed = Math.ceil(count / chunkSize);
  return {
    label,
    chunkSize,
    wallMs,
    requests: stats.requests,
    http429: stats.rateLimited,
    minimumMs: tokenBucketMinimumMs(needed, RATE, BURST, latencyMs),
  };
}

export async function realistic({ quick }: { quick: boolean }): Promise<BenchResult> {
  const count = quick ? 2_000 : 20_000;
  const latencies = quick ? [150] : [150, 300];
  const records = [...events(count, 51)];
  const rows: Row[] = [];
  const notes: string[] = [];
  const figures: Record<string, unknown> = { records: count, ratePerSecond: RATE, burst: BURST };
  for (const latencyMs of latencies) {
    // Answers leave between 0.9 and 1.1 x the nominal latency after their request arrived.
    const latency = { fixedMs: latencyMs * 0.9, jitterMs: latencyMs * 0.2 };
    const server = await startServer({
      rateLimit: { requestsPerSecond: RATE, burst: BURST },
      latency,
    });
    let runs: Run[];
    try {
      // The client's defaults: its own bucket (25/s, burst 45) and default concurrency. A fresh
      // client per run, as a new process loading a file would have: a run must not start with
      // the bucket the run before it spent (the server's bucket is refilled by reset()).
      const client = benchClient(server.url, {});
      const sdk = async (chunkSize?: number) => {
        const fresh = benchClient(server.url, {});
        const report = await upsertAllEvents(fresh, records, chunkSize ? { chunkSize } : {});
        return report.totals.created + report.totals.updated;
      };
      await timed(server, "warm-up", CHUNK, 500, latency.fixedMs, () =>
        upsertAllEvents(client, records.slice(0, 500), { chunkSize: CHUNK }).then(
          (r) => r.totals.created + r.totals.updated,
        ),
      );
      runs = [
        await timed(server, "upsertAllEvents, chunks of 100", CHUNK, count, latency.fixedMs, () =>
          sdk(CHUNK),
        ),
        await timed(
          server,
          "upsertAllEvents, defaults",
          DEFAULT_CHUNK,
          count,
          latency.fixedMs,
          () => sdk(),
        ),
        await timed(server, "naive loop, chunks of 100", CHUNK, count, latency.fixedMs, () =>
          naiveLoop(server, records, CHUNK),
        ),
      ];
    } finally {
      await server.close();
    }
    const [a, b, naive] = runs as [Run, Run, Run];
    const section = `bulk at ${latencyMs} ms ±10%, 25/s burst 50, ${fmt.int(count)} events`;
    for (const run of [a, b]) {
      const ratio = run.wallMs / run.minimumMs;
      const speedup = naive.wallMs / run.wallMs;
      rows.push(
        {
          section,
          figure: `${run.label}: time / minimum (${fmt.s(run.minimumMs)})`,
          value: `${fmt.s(run.wallMs)} = ${fmt.ratio(ratio)} (${run.requests} requests, ${run.http429} x 429)`,
          target: "<= 1.05x",
          verdict: verdict(ratio <= 1.05),
        },
        {
          section,
          figure: `${run.label}: speed vs naive loop`,
          value: fmt.ratio(speedup),
          target: ">= 3x",
          verdict: verdict(speedup >= 3),
        },
      );
      if (ratio > 1.05) {
        const needed = Math.ceil(count / run.chunkSize);
        const achieved = (run.requests / run.wallMs) * 1000;
        notes.push(
          `bulk at ${latencyMs} ms, ${run.label}: ${fmt.ratio(ratio)} the minimum. ${needed} requests: the bucket ` +
            `allows ${Math.min(needed, BURST)} at once and ${RATE}/s after, so the floor is ${fmt.s(run.minimumMs)}; ` +
            `the client made ${run.requests} requests at ${achieved.toFixed(1)}/s on average ` +
            `(${run.http429} answered 429). Reaching the floor needs about rate x round trip = ` +
            `${Math.ceil((RATE * latencyMs) / 1000)} requests in flight${needed <= BURST ? ` (here: all ${needed} at once, inside the burst)` : ""}.`,
        );
      }
    }
    rows.push({
      section,
      figure: "naive loop, chunks of 100",
      value: `${fmt.s(naive.wallMs)} (${naive.requests} requests, ${naive.http429} x 429)`,
    });
    figures[`latency${latencyMs}`] = {
      latency,
      runs: runs.map((r) => ({
        ...r,
        wallMs: round(r.wallMs, 1),
        minimumMs: round(r.minimumMs, 1),
        ratioToMinimum: round(r.wallMs / r.minimumMs),
        speedupVsNaive: round(naive.wallMs / r.wallMs),
      })),
    };
  }
  return { name: "realistic", figures, rows, notes };
}
