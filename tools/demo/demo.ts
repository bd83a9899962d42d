// `pnpm demo`: the reference server with VBA's rate limit, bulk uploads of all five entities
// with live progress, a re-upload of a changed subset, and a summary per entity.
import {
  upsertAllArmorCodeExCodes,
  upsertAllClaimPromptPays,
  upsertAllTolerances,
} from "@vbapi-sdk/billing";
import {
  type BulkProgress,
  type BulkReport,
  createVbapiClient,
  passwordLogin,
} from "@vbapi-sdk/client";
import { upsertAllProviderCredServices } from "@vbapi-sdk/credentialing";
import { upsertAllEvents } from "@vbapi-sdk/events";
import { startMockServer } from "@vbapi-sdk/mock-server";
import cliProgress from "cli-progress";
import { DEMO_USER } from "./demo-user.ts";
import { loadFiles } from "./load-file.ts";
import * as data from "./sample-data.ts";
import { formatTable } from "./table.ts";

const RATE = 25; // VBA: 25 requests/s sustained,
const BURST = 50; // bursts of up to 50
const CHUNK = 50; // records per request: small enough that the rate limit shows
const EVENTS = 10_000;
const PROVIDER_CRED_KEYS = [5021, 5022, 5023, 5024, 5025];

const tty = process.stdout.isTTY === true;
const server = await startMockServer({
  rateLimit: { requestsPerSecond: RATE, burst: BURST },
  users: [DEMO_USER],
});
const client = createVbapiClient({
  baseUrl: server.url,
  apiKey: server.credentials.apiKey,
  database: "DEMO", // the client keeps its default rate limit: 25 requests/s, bursts of 45
  // Logs in once (username and password), keeps the ID token and renews it before it expires.
  token: passwordLogin({
    ...DEMO_USER,
    database: "DEMO",
    apiKey: server.credentials.apiKey,
    baseUrl: server.url,
  }),
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
const table = formatTable(
  [
    "entity",
    "records",
    "created",
    "updated",
    "failed",
    "requests",
    "retries",
    "429s",
    "records/s",
    "time",
    "minimum time",
    "vs minimum",
  ],
  rows.map((r) => [
    r.entity,
    r.records,
    r.report.totals.created,
    r.report.totals.updated,
    r.report.totals.failed + r.report.totals.notAttempted,
    r.report.requests,
    r.report.retries,
    r.report.rateLimited,
    Math.round(r.records / (r.report.elapsedMs / 1000)),
    secs(r.report.elapsedMs),
    secs(r.minMs),
    r.minMs > 0 ? `${(r.report.elapsedMs / r.minMs).toFixed(2)}x` : "-",
  ]),
);
const totalRequests = rows.reduce((n, r) => n + r.report.requests, 0);
const totalRecords = rows.reduce((n, r) => n + r.records, 0);
const minMs = (Math.max(0, totalRequests - BURST) / RATE) * 1000;
const lost = rows.reduce((n, r) => n + r.report.totals.failed + r.report.totals.notAttempted, 0);
const unaccounted = rows.filter((r) => r.report.totals.total !== r.records);
console.log();
console.log(table);
console.log(
  `All: ${fmt(totalRecords)} records in ${fmt(totalRequests)} requests, ${secs(wallMs)}; ` +
    `the rate limit's minimum for that many requests is ${secs(minMs)} ` +
    `(${(wallMs / minMs).toFixed(2)}x). Server: ${fmt(server.stats.rateLimited)} requests answered 429.`,
);
const stored = server.routes.map(
  (route) => `${route.entity}: ${fmt(server.store.list("DEMO", route.entity).length)}`,
);
console.log(`Stored in database DEMO: ${stored.join(", ")}`);
const loginsBefore = server.stats.logins.succeeded;
console.log(
  `Logins (POST /user-authentication) for all of the above: ${loginsBefore} (one ID token, cached and reused).`,
);
const filesOk = await loadFiles(server);
console.log(
  `Logins by the vbapi command: ${server.stats.logins.succeeded - loginsBefore} (its token is cached between runs).`,
);
await server.close();
if (!filesOk) console.error("loading the file with the vbapi command did not end as expected");
if (lost > 0 || unaccounted.length > 0 || !filesOk) {
  console.error(
    `${lost} records failed or were not attempted; ${unaccounted.length} uploads lost count`,
  );
  process.exit(1);
}
