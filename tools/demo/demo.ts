// `pnpm demo`: the reference server with VBA's rate limit, bulk uploads of all five entities
// with live progress, a re-upload of a changed subset, and a summary per entity.
import {
  upsertAllArmorCodeExCodes,
  upsertAllClaimPromptPays,
  upsertAllTolerances,
} from "@vbapi-sdk/billing";
import { type BulkProgress, type BulkReport, createVbapiClient } from "@vbapi-sdk/client";
import { upsertAllProviderCredServices } from "@vbapi-sdk/credentialing";
import { upsertAllEvents } from "@vbapi-sdk/events";
import { startMockServer } from "@vbapi-sdk/mock-server";
import cliProgress from "cli-progress";
import * as data from "./sample-data.ts";

const RATE = 25; // VBA: 25 requests/s sustained,
const BURST = 50; // bursts of up to 50
const CHUNK = 50; // records per request: small enough that the rate limit shows
const EVENTS = 10_000;
const PROVIDER_CRED_KEYS = [5021, 5022, 5023, 5024, 5025];

const tty = process.stdout.isTTY === true;
const server = await startMockServer({ rateLimit: { requestsPerSecond: RATE, burst: BURST } });
const client = createVbapiClient({
  baseUrl: server.url,
  apiKey: server.credentials.apiKey,
  token: server.credentials.token,
  database: "DEMO", // the client keeps its default rate limit: 25 requests/s, bursts of 45
});

interface Row {
  entity: string;
  records: number;
  report: Omit<BulkReport, "items" | "activityIds">;
  minMs: number;
}
const rows: Row[] = [];
let bucketFull = true; // only the first upload starts with a full burst allowance

/** Runs one upload (one or more bulk runs in sequence) with a progress bar and keeps its figures for the summary. */
async function upload(
  entity: string,
  total: number,
  run: (onProgress: (p: BulkProgress) => void) => (() => Promise<BulkReport>)[],
): Promise<void> {
  const bar = tty
    ? new cliProgress.SingleBar(
        {
          format: `${entity.padEnd(28)} {bar} {value}/{total} records | {requests} requests | {failed} failed | {eta_formatted}`,
          hideCursor: true,
        },
        cliProgress.Presets.shades_classic,
      )
    : undefined;
  bar?.start(total, 0, { requests: 0, failed: 0 });
  let base = 0; // several sequential runs (one per providerCredKey) share one bar

  let requests = 0;
  const reports: BulkReport[] = [];
  const onProgress = (p: BulkProgress) => {
    const done = base + p.done;
    bar?.update(done, { requests: requests + p.requests, failed: p.failed });
  };
  // One run after the other: a shared bar, and each run's elapsed time its own.
  for (const start of run(onProgress)) {
    const report = await start();
    reports.push(report);
    base += report.items.length;
    requests += report.requests;
  }
  bar?.update(base, { requests });
  bar?.stop();
  const sum = (f: (r: BulkReport) => number) => reports.reduce((n, r) => n + f(r), 0);
  const report = {
    totals: {
      total: sum((r) => r.totals.total),
      created: sum((r) => r.totals.created),
      updated: sum((r) => r.totals.updated),
      failed: sum((r) => r.totals.failed),
      notAttempted: sum((r) => r.totals.notAttempted),
    },
    requests: sum((r) => r.requests),
    retries: sum((r) => r.retries),
    rateLimited: sum((r) => r.rateLimited),
    elapsedMs: sum((r) => r.elapsedMs),
  };
  const allowance = bucketFull ? BURST : 0;
  bucketFull = false;
  rows.push({
    entity,
    records: total,
    report,
    minMs: (Math.max(0, report.requests - allowance) / RATE) * 1000,
  });
  if (!tty) {
    console.log(
      `${entity}: ${report.totals.total} records in ${report.requests} requests, ${report.totals.failed} failed`,
    );
  }
}

const opts = (onProgress: (p: BulkProgress) => void) => ({ chunkSize: CHUNK, onProgress });
console.log(
  `Reference server at ${server.url} (rate limit ${RATE}/s, burst ${BURST}); ${CHUNK} records per request\n`,
);
const started = performance.now();

await upload("Events", EVENTS, (p) => [
  () => upsertAllEvents(client, data.events(EVENTS), opts(p)),
]);
await upload("Tolerances", 2_000, (p) => [
  () => upsertAllTolerances(client, data.tolerances(2_000), opts(p)),
]);
await upload("Claim prompt pays", 1_500, (p) => [
  () => upsertAllClaimPromptPays(client, data.claimPromptPays(1_500), opts(p)),
]);
await upload("Armor code EX codes", 1_000, (p) => [
  () => upsertAllArmorCodeExCodes(client, data.armorCodeExCodes(1_000), opts(p)),
]);
// One batch endpoint per credentialing process: the runs go one after the other.
await upload("Provider cred. services", PROVIDER_CRED_KEYS.length * 100, (p) =>
  PROVIDER_CRED_KEYS.map(
    (key) => () =>
      upsertAllProviderCredServices(client, key, data.providerCredServices(key, 100), opts(p)),
  ),
);
// Re-upload every tenth event, closed and complete: the server answers "Updated".
function* closedEvents() {
  let i = 0;
  for (const e of data.events(EVENTS)) {
    if (i++ % 10 === 0) yield { ...e, status: "CLOSED", completion_Percent: 100 };
  }
}
await upload("Events (changed subset)", EVENTS / 10, (p) => [
  () => upsertAllEvents(client, closedEvents(), opts(p)),
]);
const wallMs = performance.now() - started;

// Summary
const fmt = (n: number) => n.toLocaleString("en-US");
const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const table = rows.map((r) => ({
  entity: r.entity,
  records: fmt(r.records),
  created: fmt(r.report.totals.created),
  updated: fmt(r.report.totals.updated),
  failed: fmt(r.report.totals.failed + r.report.totals.notAttempted),
  requests: fmt(r.report.requests),
  retries: fmt(r.report.retries),
  "429s": fmt(r.report.rateLimited),
  "records/s": fmt(Math.round(r.records / (r.report.elapsedMs / 1000))),
  time: secs(r.report.elapsedMs),
  "minimum time": secs(r.minMs),
  "vs minimum": r.minMs > 0 ? `${(r.report.elapsedMs / r.minMs).toFixed(2)}x` : "-",
}));
const totalRequests = rows.reduce((n, r) => n + r.report.requests, 0);
const totalRecords = rows.reduce((n, r) => n + r.records, 0);
const minMs = (Math.max(0, totalRequests - BURST) / RATE) * 1000;
const lost = rows.reduce((n, r) => n + r.report.totals.failed + r.report.totals.notAttempted, 0);
const unaccounted = rows.filter((r) => r.report.totals.total !== r.records);
console.log();
console.table(table);
console.log(
  `All: ${fmt(totalRecords)} records in ${fmt(totalRequests)} requests, ${secs(wallMs)}; ` +
    `the rate limit's minimum for that many requests is ${secs(minMs)} ` +
    `(${(wallMs / minMs).toFixed(2)}x). Server: ${fmt(server.stats.rateLimited)} requests answered 429.`,
);
const stored = server.routes.map(
  (route) => `${route.entity}: ${fmt(server.store.list("DEMO", route.entity).length)}`,
);
console.log(`Stored in database DEMO: ${stored.join(", ")}`);
await server.close();
if (lost > 0 || unaccounted.length > 0) {
  console.error(
    `${lost} records failed or were not attempted; ${unaccounted.length} uploads lost count`,
  );
  process.exit(1);
}
