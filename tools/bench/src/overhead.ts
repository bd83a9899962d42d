// 1. Per-request overhead: one-record and hundred-record batch upserts through our client vs
// raw fetch, bare openapi-fetch and axios, round-robin per iteration against one loopback server.
import type { EntityRecord, paths } from "@vbapi-sdk/client";
import { events } from "@vbapi-sdk/tool-demo/sample-data.ts";
import axios from "axios";
import createClient from "openapi-fetch";
import { type BenchResult, type Row, verdict } from "./report.ts";
import { benchClient, DATABASE, startServer } from "./server.ts";
import { fmt, median, p95, round } from "./stats.ts";

type Records = EntityRecord<"Event">[];
type Contender = (records: Records) => Promise<void>;

const PATH = "/events-batch";
const NAMES = ["fetch", "openapi-fetch", "axios", "vbapi-sdk"] as const;
type Name = (typeof NAMES)[number];

function contenders(url: string, headers: Record<string, string>): Record<Name, Contender> {
  const bare = createClient<paths>({ baseUrl: url, headers });
  const ax = axios.create({ baseURL: url, headers });
  const client = benchClient(url);
  const expect207 = (status: number) => {
    if (status !== 207) throw new Error(`expected HTTP 207, got ${status}`);
  };
  return {
    fetch: async (records) => {
      const res = await fetch(url + PATH, {
        method: "PUT",
        headers,
        body: JSON.stringify(records),
      });
      await res.json();
      expect207(res.status);
    },
    "openapi-fetch": async (records) => {
      const { response } = await bare.PUT(PATH, {
        params: { header: { "vbasoftware-database": DATABASE } },
        body: records,
      });
      expect207(response.status);
    },
    axios: async (records) => expect207((await ax.put(PATH, records)).status),
    "vbapi-sdk": async (records) => {
      const result = await client.upsertBatch("Event", records);
      if (result.failed > 0) throw new Error("vbapi-sdk: records failed");
    },
  };
}

interface Samples {
  wall: number[];
  cpu: number[];
}

/** Runs every contender once per round, rotating who goes first so drift hits all equally. */
async function rounds(fns: Record<Name, Contender>, records: Records, n: number) {
  const samples = {} as Record<Name, Samples>;
  for (const name of NAMES) samples[name] = { wall: [], cpu: [] };
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < NAMES.length; j++) {
      const name = NAMES[(i + j) % NAMES.length] as Name;
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      await fns[name](records);
      const wall = performance.now() - t0;
      const cpu = process.cpuUsage(cpu0);
      samples[name].wall.push(wall);
      samples[name].cpu.push(cpu.user + cpu.system);
    }
  }
  return samples;
}

export async function overhead({ quick }: { quick: boolean }): Promise<BenchResult> {
  const server = await startServer({ rateLimit: false });
  const rows: Row[] = [];
  const figures: Record<string, unknown> = {};
  const notes: string[] = [];
  try {
    const fns = contenders(server.url, server.headers);
    for (const size of [1, 100]) {
      const records = [...events(size, 11, 1_000_000)];
      const n = quick ? 20 : size === 1 ? 1500 : 400;
      await rounds(fns, records, quick ? 5 : 100); // warm-up: JIT, connections, server store
      const s = await rounds(fns, records, n);
      const base = { median: median(s.fetch.wall), p95: p95(s.fetch.wall) };
      const perContender: Record<string, unknown> = {};
      for (const name of NAMES) {
        const m = median(s[name].wall);
        const p = p95(s[name].wall);
        perContender[name] = {
          medianMs: round(m, 4),
          p95Ms: round(p, 4),
          ratioMedian: round(m / base.median),
          ratioP95: round(p / base.p95),
          clientCpuMedianUs: round(median(s[name].cpu), 1),
        };
        if (name === "fetch") continue;
        const sdk = name === "vbapi-sdk";
        const ok = m / base.median <= 1.1 && m < median(s.axios.wall);
        rows.push({
          section: `overhead, ${size} record${size > 1 ? "s" : ""}`,
          figure: `${name} / fetch (median; p95)`,
          value: `${fmt.ratio(m / base.median)}; ${fmt.ratio(p / base.p95)}`,
          ...(sdk ? { target: "<= 1.10x, faster than axios", verdict: verdict(ok) } : {}),
        });
      }
      rows.push({
        section: `overhead, ${size} record${size > 1 ? "s" : ""}`,
        figure: "fetch median; p95",
        value: `${fmt.ms(base.median)}; ${fmt.ms(base.p95)} (${n} rounds)`,
      });
      rows.push({
        section: `overhead, ${size} record${size > 1 ? "s" : ""}`,
        figure: "client CPU/request (median)",
        value: NAMES.map((k) => `${k} ${fmt.us(median(s[k].cpu))}`).join(", "),
      });
      figures[`batch${size}`] = { rounds: n, contenders: perContender };
      const sdkRatio = median(s["vbapi-sdk"].wall) / base.median;
      if (sdkRatio > 1.1 || median(s["vbapi-sdk"].wall) >= median(s.axios.wall)) {
        const extra = median(s["vbapi-sdk"].cpu) - median(s.fetch.cpu);
        notes.push(
          `overhead (${size} record${size > 1 ? "s" : ""}): vbapi-sdk is ${fmt.ratio(sdkRatio)} raw fetch ` +
            `(axios ${fmt.ratio(median(s.axios.wall) / base.median)}); it spends ${fmt.us(extra)} more client CPU ` +
            "per request than raw fetch, and on a 2-core machine shared with the server every client µs shows in wall time.",
        );
      }
    }
  } finally {
    await server.close();
  }
  return { name: "overhead", figures, rows, notes };
}
