// 2. Bulk throughput, rate limit off: upsertAllEvents (defaults: chunks of 500, 4 in flight)
// vs a straightforward loop sending fixed chunks one at a time with raw fetch.
import { type EntityRecord, upsertAllEvents } from "@vbapi-sdk/client";
import { events } from "@vbapi-sdk/tool-demo/sample-data.ts";
import { type BenchResult, verdict } from "./report.ts";
import { benchClient, type ServerHandle, serverCpuMs, startServer } from "./server.ts";
import { cpuMs, fmt, round } from "./stats.ts";

type Records = EntityRecord<"Event">[];

/** The naive loop's chunk size: the same as upsertAll's default, so only the engine differs. */
export const NAIVE_CHUNK = 500;

async function naiveLoop(server: ServerHandle, records: Records): Promise<number> {
  let ok = 0;
  for (let i = 0; i < records.length; i += NAIVE_CHUNK) {
    const res = await fetch(`${server.url}/events-batch`, {
      method: "PUT",
      headers: server.headers,
      body: JSON.stringify(records.slice(i, i + NAIVE_CHUNK)),
    });
    const body = (await res.json()) as { data: { status: number }[] };
    if (res.status !== 207) throw new Error(`naive loop: HTTP ${res.status}`);
    for (const item of body.data) if (item.status < 300) ok++;
  }
  return ok;
}

async function sdk(server: ServerHandle, records: Records): Promise<number> {
  const report = await upsertAllEvents(benchClient(server.url), records);
  return report.totals.created + report.totals.updated;
}

interface Run {
  wallMs: number;
  clientCpuMs: number;
  serverCpuMs: number;
}

async function measure(
  server: ServerHandle,
  records: Records,
  fn: (s: ServerHandle, r: Records) => Promise<number>,
): Promise<Run> {
  await server.reset();
  const before = await server.snapshot();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const ok = await fn(server, records);
  const wallMs = performance.now() - t0;
  const clientCpu = cpuMs(cpu0);
  const after = await server.snapshot();
  if (ok !== records.length) throw new Error(`bulk: ${records.length - ok} records not upserted`);
  return { wallMs, clientCpuMs: clientCpu, serverCpuMs: serverCpuMs(before, after) };
}

export async function bulk({ quick }: { quick: boolean }): Promise<BenchResult> {
  const count = quick ? 5_000 : 100_000;
  const records = [...events(count, 21)];
  const server = await startServer({ rateLimit: false });
  const runs: { naive: Run[]; sdk: Run[] } = { naive: [], sdk: [] };
  try {
    await measure(server, records.slice(0, 2_000), naiveLoop); // warm-up
    await measure(server, records.slice(0, 2_000), sdk);
    for (let i = 0; i < (quick ? 1 : 2); i++) {
      runs.naive.push(await measure(server, records, naiveLoop));
      runs.sdk.push(await measure(server, records, sdk));
    }
  } finally {
    await server.close();
  }
  // Best of the runs: the least disturbed by other work on the machine.
  const best = (rs: Run[]) => rs.reduce((a, b) => (b.wallMs < a.wallMs ? b : a));
  const naive = best(runs.naive);
  const ours = best(runs.sdk);
  const rate = (r: Run) => (count / r.wallMs) * 1000;
  const ratio = rate(ours) / rate(naive);
  const usPerRecord = (ms: number) => (ms * 1000) / count;
  // With perfect pipelining the single-threaded server is the limit: 1 / its CPU per record.
  const ceiling = 1e6 / usPerRecord(ours.serverCpuMs);
  const section = `bulk, ${fmt.int(count)} events`;
  const summary = (r: Run) => ({
    recordsPerSecond: round(rate(r), 0),
    clientCpuUsPerRecord: round(usPerRecord(r.clientCpuMs)),
    serverCpuUsPerRecord: round(usPerRecord(r.serverCpuMs)),
  });
  const notes: string[] = [];
  if (ratio < 3) {
    notes.push(
      `bulk: upsertAllEvents is ${fmt.ratio(ratio)} the naive loop (target 3x). Client CPU per record: ` +
        `${fmt.us(usPerRecord(ours.clientCpuMs))} (naive loop ${fmt.us(usPerRecord(naive.clientCpuMs))}); ` +
        `server CPU per record: ${fmt.us(usPerRecord(ours.serverCpuMs))}. Even a zero-cost client could not beat ` +
        `${fmt.rate(ceiling)} (${fmt.ratio(ceiling / rate(naive))} the naive loop) against this single-threaded server.`,
    );
  }
  return {
    name: "bulk",
    figures: {
      records: count,
      naiveChunkSize: NAIVE_CHUNK,
      runs,
      naive: summary(naive),
      sdk: summary(ours),
      ratio: round(ratio),
      serverBoundCeilingPerSecond: round(ceiling, 0),
      ceilingRatio: round(ceiling / rate(naive)),
    },
    rows: [
      {
        section,
        figure: `naive fetch loop (chunks of ${NAIVE_CHUNK})`,
        value: `${fmt.rate(rate(naive))}, client CPU ${fmt.us(usPerRecord(naive.clientCpuMs))}/record`,
      },
      {
        section,
        figure: "upsertAllEvents (defaults)",
        value: `${fmt.rate(rate(ours))}, client CPU ${fmt.us(usPerRecord(ours.clientCpuMs))}/record`,
      },
      {
        section,
        figure: "upsertAllEvents / naive loop",
        value: fmt.ratio(ratio),
        target: ">= 3x",
        verdict: verdict(ratio >= 3),
      },
      {
        section,
        figure: "server-bound ceiling",
        value: `${fmt.rate(ceiling)} = ${fmt.ratio(ceiling / rate(naive))} naive (server ${fmt.us(usPerRecord(ours.serverCpuMs))}/record)`,
      },
    ],
    notes,
  };
}
