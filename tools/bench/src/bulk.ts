// 4. Bulk client CPU at zero latency (rate limit off, server in its own process): client CPU
// per record of upsertAllEvents (defaults) against a naive sequential raw-fetch loop with the
// same chunk size, measured with process.cpuUsage in this (the client) process. Interleaved
// rounds; the verdict is on the upper bound of the 95 % CI of the per-round ratio.
import { type EntityRecord, upsertAllEvents } from "@vbapi-sdk/client";
import { events } from "@vbapi-sdk/tool-demo/sample-data.ts";
import { naiveLoop } from "./naive.ts";
import { type BenchResult, verdict } from "./report.ts";
import { benchClient, type ServerHandle, serverCpuMs, startServer } from "./server.ts";
import { cpuMs, fmt, mean, meanCI, round } from "./stats.ts";

type Records = EntityRecord<"Event">[];

/** The naive loop's chunk size: the same as upsertAll's default, so only the engine differs. */
export const NAIVE_CHUNK = 500;
/** Issue 23: at most 1.5x the naive loop's client CPU per record (upper bound of the CI). */
const TARGET = 1.5;

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
  const count = quick ? 5_000 : 40_000;
  const rounds = quick ? 3 : 8;
  const records = [...events(count, 21)];
  const naive = (s: ServerHandle, r: Records) => naiveLoop(s, r, NAIVE_CHUNK);
  const server = await startServer({ rateLimit: false });
  const runs: { naive: Run[]; sdk: Run[] } = { naive: [], sdk: [] };
  try {
    await measure(server, records.slice(0, 2_000), naive); // warm-up
    await measure(server, records.slice(0, 2_000), sdk);
    for (let i = 0; i < rounds; i++) {
      // Alternate who goes first, so drift on the shared machine hits both alike.
      const order = i % 2 === 0 ? (["naive", "sdk"] as const) : (["sdk", "naive"] as const);
      for (const who of order)
        runs[who].push(await measure(server, records, who === "naive" ? naive : sdk));
    }
  } finally {
    await server.close();
  }
  const usPerRecord = (ms: number) => (ms * 1000) / count;
  const cpuRatio = meanCI(
    runs.sdk.map((r, i) => r.clientCpuMs / (runs.naive[i] as Run).clientCpuMs),
  );
  const wallRatio = meanCI(runs.naive.map((r, i) => r.wallMs / (runs.sdk[i] as Run).wallMs));
  const avg = (rs: Run[], k: keyof Run) => mean(rs.map((r) => r[k]));
  const summary = (rs: Run[]) => ({
    recordsPerSecond: round((count / avg(rs, "wallMs")) * 1000, 0),
    clientCpuUsPerRecord: round(usPerRecord(avg(rs, "clientCpuMs"))),
    serverCpuUsPerRecord: round(usPerRecord(avg(rs, "serverCpuMs"))),
  });
  const section = `bulk CPU, zero latency, ${fmt.int(count)} events x ${rounds} rounds`;
  const notes: string[] = [];
  if (!(cpuRatio.high <= TARGET)) {
    notes.push(
      `bulk CPU: upsertAllEvents spends ${fmt.ci(cpuRatio)} the naive loop's client CPU per record ` +
        `(${fmt.us(usPerRecord(avg(runs.sdk, "clientCpuMs")))} against ${fmt.us(usPerRecord(avg(runs.naive, "clientCpuMs")))}; ` +
        `target <= ${TARGET}x on the CI's upper bound). Both send the same ${NAIVE_CHUNK}-record chunks; the difference ` +
        "is the engine's own work per record (validation, serialization per record, key bookkeeping, the report).",
    );
  }
  return {
    name: "bulk",
    figures: {
      records: count,
      rounds,
      naiveChunkSize: NAIVE_CHUNK,
      runs,
      naive: summary(runs.naive),
      sdk: summary(runs.sdk),
      clientCpuRatio: {
        mean: round(cpuRatio.mean),
        low: round(cpuRatio.low),
        high: round(cpuRatio.high),
      },
      speedup: {
        mean: round(wallRatio.mean),
        low: round(wallRatio.low),
        high: round(wallRatio.high),
      },
    },
    rows: [
      {
        section,
        figure: `client CPU/record: naive loop (chunks of ${NAIVE_CHUNK}); upsertAllEvents`,
        value: `${fmt.us(usPerRecord(avg(runs.naive, "clientCpuMs")))}; ${fmt.us(usPerRecord(avg(runs.sdk, "clientCpuMs")))}`,
      },
      {
        section,
        figure: "client CPU/record, upsertAllEvents / naive [95% CI]",
        value: fmt.ci(cpuRatio),
        target: `<= ${TARGET}x (upper bound)`,
        verdict: verdict(cpuRatio.high <= TARGET),
      },
      {
        section,
        figure: "records/s: naive; upsertAllEvents (speedup [95% CI])",
        value: `${fmt.rate((count / avg(runs.naive, "wallMs")) * 1000)}; ${fmt.rate((count / avg(runs.sdk, "wallMs")) * 1000)} (${fmt.ci(wallRatio)})`,
      },
      {
        section,
        figure: "server CPU/record (its own process)",
        value: fmt.us(usPerRecord(avg(runs.sdk, "serverCpuMs"))),
      },
    ],
    notes,
  };
}
