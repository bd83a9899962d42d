// 3. Rate-limit efficiency: 20 000 events against the reference server at 25 requests/s
// (burst 50) with the client's default limiter; wall time vs the theoretical minimum.
import { upsertAllEvents } from "@vbapi-sdk/client";
import { events } from "@vbapi-sdk/tool-demo/sample-data.ts";
import { type BenchResult, verdict } from "./report.ts";
import { benchClient, startServer } from "./server.ts";
import { fmt, round } from "./stats.ts";

const RATE = 25;
const BURST = 50;

export async function ratelimit({ quick }: { quick: boolean }): Promise<BenchResult> {
  // Full run: 20 000 records in chunks of 100 = 200 requests (6 s minimum). Quick: 100 requests.
  const count = quick ? 1_000 : 20_000;
  const chunkSize = quick ? 10 : 100;
  const requests = Math.ceil(count / chunkSize);
  const minMs = (Math.max(0, requests - BURST) / RATE) * 1000;
  const server = await startServer({ rateLimit: { requestsPerSecond: RATE, burst: BURST } });
  try {
    // The client's default limiter: 25 requests/s, burst 45 (VBA allows 50; five are kept in hand).
    const client = benchClient(server.url, {});
    const records = [...events(count, 31)];
    await server.reset(); // refills the server's bucket, as the client's starts full
    const t0 = performance.now();
    const report = await upsertAllEvents(client, records, { chunkSize });
    const wallMs = performance.now() - t0;
    const stats = (await server.snapshot()).stats;
    const ratio = wallMs / minMs;
    const provoked = stats.rateLimited;
    const ok = report.totals.created + report.totals.updated;
    const section = `rate limit, ${fmt.int(count)} events`;
    return {
      name: "ratelimit",
      figures: {
        records: count,
        chunkSize,
        requestsNeeded: requests,
        requestsMade: stats.requests,
        ratePerSecond: RATE,
        burst: BURST,
        theoreticalMinMs: round(minMs, 1),
        wallMs: round(wallMs, 1),
        ratio: round(ratio),
        http429: provoked,
        clientSaw429: report.rateLimited,
        upserted: ok,
      },
      rows: [
        {
          section,
          figure: "chunk size; requests",
          value: `${chunkSize}; ${stats.requests} (needed ${requests})`,
        },
        {
          section,
          figure: `wall time vs minimum (${fmt.s(minMs)})`,
          value: `${fmt.s(wallMs)} = ${fmt.ratio(ratio)}`,
          target: "<= 1.05x",
          verdict: verdict(ratio <= 1.05),
        },
        {
          section,
          figure: "HTTP 429 provoked",
          value: String(provoked),
          target: "0",
          verdict: verdict(provoked === 0),
        },
      ],
      notes: [
        ...(ok === count ? [] : [`ratelimit: only ${ok} of ${count} records were upserted`]),
        ...(provoked > 0 || ratio > 1.05
          ? [
              `ratelimit: ${provoked} HTTP 429 answer(s), ${fmt.ratio(ratio)} the minimum. The client's default bucket ` +
                "spends 45 of VBA's 50-request burst and keeps five in hand against arrival jitter, which costs " +
                "5 / 25 = 0.2 s against the minimum; any 429 pauses every request for its Retry-After (at least 1 s).",
            ]
          : []),
      ],
    };
  } finally {
    await server.close();
  }
}
