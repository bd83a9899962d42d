// 8. Short-lived tokens (issue 19): 3-second ID tokens during a 6-second bulk run at VBA's rate
// (25 requests/s, burst 50; 200 one-record requests), the reference server in its own process
// (its clock as the machine's with tokens carrying iat, and 2 hours behind with tokens carrying
// only exp). Targets: at most 12 logins, no answer 401, no failed record. Timing-dependent, so
// measured here, on a machine the run does not share with a test suite; the tests check the
// logins and that no record fails on any machine.
import { createVbapiClient, passwordLogin, upsertAllTolerances } from "@vbapi-sdk/client";
import { type BenchResult, type Row, verdict } from "./report.ts";
import { API_KEY, DATABASE, startServer } from "./server.ts";

const USER = {
  username: "bench",
  password: "bench-Pass-1",
  clientId: "bench",
  clientCode: "BENCH",
};
const SCENARIOS = [
  { label: "same clock, tokens with iat", clockOffsetMs: 0, tokenIssuedAt: true },
  {
    label: "server 2 h behind, tokens without iat",
    clockOffsetMs: -7_200_000,
    tokenIssuedAt: false,
  },
] as const;

export async function tokens({ quick }: { quick: boolean }): Promise<BenchResult> {
  const rows: Row[] = [];
  const figures: Record<string, unknown> = {};
  for (const scenario of quick ? SCENARIOS.slice(0, 1) : SCENARIOS) {
    const server = await startServer({
      users: [{ ...USER, database: DATABASE }],
      tokenLifetimeMs: 3_000,
      clockOffsetMs: scenario.clockOffsetMs,
      tokenIssuedAt: scenario.tokenIssuedAt,
      latency: { fixedMs: 5, jitterMs: 5 },
    });
    try {
      const common = { baseUrl: server.url, apiKey: API_KEY, database: DATABASE };
      const client = createVbapiClient({
        ...common,
        logLevel: "error",
        token: passwordLogin({ ...USER, ...common }),
      });
      // 200 requests take 6 s at 25/s after the burst of 50; --quick's 140 take 3.6 s, still
      // past one 3-second token.
      const records = Array.from({ length: quick ? 140 : 200 }, (_, i) => ({
        tolerance_Key: i + 1,
        tolerance1: 1,
      }));
      const started = performance.now();
      const report = await upsertAllTolerances(client, records, { chunkSize: 1 });
      const wallMs = performance.now() - started;
      const { stats } = await server.snapshot();
      const logins = stats.logins.succeeded;
      const answered401 = stats.byStatus["401"] ?? 0;
      const failed = report.totals.failed + report.totals.notAttempted;
      figures[scenario.label] = { wallMs, logins, answered401, failed, requests: stats.requests };
      const section = `3-second tokens, ${scenario.label}`;
      rows.push(
        {
          section,
          figure: "run",
          value: `${(wallMs / 1000).toFixed(1)} s, ${stats.requests} requests`,
        },
        {
          section,
          figure: "logins",
          value: String(logins),
          target: "<= 12",
          verdict: verdict(logins <= 12),
        },
        {
          section,
          figure: "answers 401",
          value: String(answered401),
          target: "0",
          verdict: verdict(answered401 === 0),
        },
        {
          section,
          figure: "failed records",
          value: String(failed),
          target: "0",
          verdict: verdict(failed === 0),
        },
      );
    } finally {
      await server.close();
    }
  }
  return { name: "tokens", figures, rows };
}
