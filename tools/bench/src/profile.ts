// A CPU profile of the client's hot path: the SDK's request path in a loop against the reference
// server in its own process (so the profile holds the client's CPU only), recorded through the
// inspector after a warm-up (no module loading, no JIT warm-up in it), every 100 µs.
//   tsx src/profile.ts <mode> <out.cpuprofile> [n]
// `batchN`: upsertBatch of N events, n times (default 5,000 for 1 event, else 2,000); `fetchN`: the same requests
// with raw fetch (the baseline); `memoryN`: upsertBatch through a fetch answering from memory (the
// SDK's own path alone, no network); `bulk`: upsertAllEvents of 40,000 events, n times (default 5);
// `naive`: the naive loop of bulk.ts on the same records. `--heap`: V8's sampling heap profile
// (.heapprofile, every allocation site, collected objects included) instead of CPU.
// Then `tsx src/flame.ts` draws a .cpuprofile.
import { writeFileSync } from "node:fs";
import { Session } from "node:inspector/promises";
import { type EntityRecord, upsertAllEvents } from "@vbapi-sdk/client";
import { events } from "@vbapi-sdk/tool-demo/sample-data.ts";
import { naiveLoop } from "./naive.ts";
import { benchClient, startServer } from "./server.ts";
import { answerOf } from "./steps.ts";

const [mode = "batch100", out, count] = process.argv.slice(2).filter((a) => !a.startsWith("--"));
if (!out) throw new Error("usage: tsx src/profile.ts <mode> <out.cpuprofile> [n]");
const server = await startServer({ rateLimit: false });
const session = new Session();
session.connect();

/** Runs `mode` n times; returns the number of requests sent. */
async function run(n: number): Promise<number> {
  const match = /^(batch|fetch|memory)(\d+)$/.exec(mode);
  let requests = 0;
  if (match) {
    const size = Number(match[2]);
    const records = [...events(size, 11, 1_000_000)];
    const sdk = match[1] === "memory" ? await inMemory(records) : client;
    for (let i = 0; i < n; i++) {
      if (match[1] !== "fetch") {
        const result = await sdk.upsertBatch("Event", records);
        if (result.failed > 0) throw new Error("records failed");
      } else if ((await naiveLoop(server, records, size)) !== size) {
        throw new Error("records failed");
      }
      requests++;
    }
  } else if (mode === "bulk" || mode === "naive") {
    const records = [...events(40_000, 21)];
    for (let i = 0; i < n; i++) {
      await server.reset();
      const ok =
        mode === "bulk"
          ? (await upsertAllEvents(client, records)).totals.failed === 0
          : (await naiveLoop(server, records, 500)) === records.length;
      if (!ok) throw new Error("records failed");
      requests += records.length / 500;
    }
  } else {
    throw new Error(`unknown mode ${mode}: batch<N> | fetch<N> | bulk | naive`);
  }
  return requests;
}

/** A client whose fetch answers from memory with the server's real 207 for `records`. */
async function inMemory(records: EntityRecord<"Event">[]) {
  const answer = await answerOf(server.url, server.headers, records);
  await server.reset();
  return benchClient("http://127.0.0.1:9/vbasoftware", {
    rateLimit: false,
    fetch: async () => new Response(answer.slice(), { status: 207 }),
  });
}

const client = benchClient(server.url);
try {
  const bulky = mode === "bulk" || mode === "naive";
  const n = Number(count ?? (bulky ? 5 : /\D1$/.test(mode) ? 5_000 : 2_000));
  if (!Number.isInteger(n) || n < 1)
    throw new Error(`profile: n must be a whole number >= 1 (got ${count})`);
  await run(Math.max(1, Math.round(n / 5))); // warm-up: JIT, connections, the server's store
  const heap = process.argv.includes("--heap");
  if (heap) {
    await session.post("HeapProfiler.enable");
    await session.post("HeapProfiler.startSampling", {
      samplingInterval: 1024,
      includeObjectsCollectedByMajorGC: true,
      includeObjectsCollectedByMinorGC: true,
    } as never);
  } else {
    await session.post("Profiler.enable");
    await session.post("Profiler.setSamplingInterval", { interval: 100 });
    await session.post("Profiler.start");
  }
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const requests = await run(n);
  const cpu = process.cpuUsage(cpu0);
  const { profile } = heap
    ? await session.post("HeapProfiler.stopSampling")
    : await session.post("Profiler.stop");
  writeFileSync(out, JSON.stringify(profile));
  console.log(
    `${mode}: ${requests} requests in ${Math.round(performance.now() - t0)} ms; client CPU ${Math.round((cpu.user + cpu.system) / requests)} µs/request`,
  );
} finally {
  session.disconnect();
  await server.close();
}
