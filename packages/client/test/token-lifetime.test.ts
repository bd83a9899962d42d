// Short-lived tokens and clocks that disagree, over real HTTP against the reference server: a
// bulk run at VBA's rate limit with 3-second ID tokens logs in a handful of times (not before
// every call), whether the server's clock is hours ahead or behind and whether its tokens carry
// `iat`; the login answer is read under the same size cap as every other answer.
import { type MockServer, startMockServer } from "@vbapi-sdk/mock-server";
import { afterAll, describe, expect, it } from "vitest";
import { DEFAULT_MAX_RESPONSE_BYTES } from "../src/base/defaults.ts";
import { upsertAllTolerances } from "../src/bulk/index.ts";
import { createVbapiClient } from "../src/client/client.ts";
import { passwordLogin, VbapiError } from "../src/index.ts";

const USER = { username: "bob", password: "pw-Short-Lived-1", clientId: "c-1", clientCode: "CC" };
const HOUR = 3_600_000;
const servers: MockServer[] = [];
afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

const tolerances = (n: number) =>
  Array.from({ length: n }, (_, i) => ({ tolerance_Key: i + 1, tolerance1: 1.5 }));

async function run(options: { clockOffsetMs: number; tokenIssuedAt: boolean }) {
  // VBA's limits (25/s, burst 50; logins 1/s, burst 10) and 3-second ID tokens.
  const server = await startMockServer({
    users: [{ ...USER, database: "shortdb" }],
    tokenLifetimeMs: 3_000,
    latency: { fixedMs: 5, jitterMs: 5 },
    ...options,
  });
  servers.push(server);
  const common = { baseUrl: server.url, apiKey: server.credentials.apiKey, database: "shortdb" };
  const client = createVbapiClient({
    ...common,
    token: passwordLogin({ ...USER, ...common }),
  });
  const started = Date.now();
  // 200 one-record requests at 25/s after a burst of 50: a six-second run, two token lifetimes.
  const report = await upsertAllTolerances(client, tolerances(200), { chunkSize: 1 });
  return { report, wallMs: Date.now() - started, stats: server.stats };
}

describe("short-lived tokens, clocks apart, slow and failing logins (concurrently)", () => {
  it.concurrent.each([
    ["same clock, tokens with iat", 0, true],
    ["server clock 2 h behind, tokens with iat", -2 * HOUR, true],
    ["server clock 2 h ahead, tokens with iat", 2 * HOUR, true],
    ["server clock 2 h behind, tokens without iat", -2 * HOUR, false],
    ["server clock 2 h ahead, tokens without iat", 2 * HOUR, false],
  ] as const)("%s: at most 12 logins, no 401, no failed record", async (_, clockOffsetMs, iat) => {
    const { report, wallMs, stats } = await run({ clockOffsetMs, tokenIssuedAt: iat });
    // Every record is accounted for. On a machine of its own none fails (`pnpm bench` asserts
    // 0). Inside the whole suite a starved event loop can hold a request past a fresh token's
    // life too: such a record fails with the 401 that followed the one renewal, and nothing else.
    const failed = report.items.filter((item) => item.outcome === "failed");
    expect(failed.map((item) => item.status).filter((status) => status !== 401)).toEqual([]);
    expect(failed.length).toBeLessThanOrEqual(3);
    expect(report.totals.updated + report.totals.created + failed.length).toBe(200);
    expect(wallMs).toBeGreaterThan(5_000);
    // Before: a login before nearly every call (163 logins, 429s from the login's own limit).
    expect(stats.logins.succeeded).toBeLessThanOrEqual(12);
    expect(stats.logins.rateLimited).toBe(0);
    // 0 on a machine of its own (`pnpm bench` checks that: tools/bench/src/tokens.ts). Here the
    // reference server shares a test worker with the whole suite: a request held up longer than
    // a token's last 0.75 s gets a 401, renewed once, and fails no record (checked above). The
    // whole suite on two cores has measured up to 41 of these 200 requests; a 401 storm (a
    // token used after the SDK knew it was stale) would be most of them.
    expect(stats.byStatus["401"] ?? 0).toBeLessThanOrEqual(60);
  });

  it.concurrent("a login that takes a third of the token's lifetime: no 401, no failed record", async () => {
    // Every answer, the login's included, takes 1 s; tokens live 3 s. Counting the lifetime from
    // the answer's arrival (not from sending) made every token look a second longer-lived.
    const server = await startMockServer({
      users: [{ ...USER, database: "slowdb" }],
      tokenLifetimeMs: 3_000,
      rateLimit: false,
      loginRateLimit: false,
      latency: { fixedMs: 1_000, jitterMs: 0 },
    });
    servers.push(server);
    const common = { baseUrl: server.url, apiKey: server.credentials.apiKey, database: "slowdb" };
    const client = createVbapiClient({ ...common, token: passwordLogin({ ...USER, ...common }) });
    const report = await upsertAllTolerances(client, tolerances(120), {
      chunkSize: 5,
      concurrency: 4,
    });
    expect(report.totals.created).toBe(120);
    // Before, 36 of these; 0 on a machine of its own (see above).
    expect(server.stats.byStatus["401"] ?? 0).toBeLessThanOrEqual(6);
    expect(server.stats.logins.succeeded).toBeLessThanOrEqual(8);
  });

  it.concurrent("a login server that fails after the first login is tried once per backoff step, not once per call", async () => {
    const server = await startMockServer({
      users: [{ ...USER, database: "faildb" }],
      // Two seconds: on a loaded machine the first round must still find its token usable.
      tokenLifetimeMs: 2_000,
      rateLimit: false,
      loginRateLimit: false,
    });
    servers.push(server);
    let attempts = 0;
    // The first login succeeds; from then on VBA's login answers 500 (a fault injected in front
    // of the reference server; the batch calls reach it untouched).
    const failingLogin: typeof fetch = async (input, init) => {
      if (String(input).endsWith("/user-authentication") && ++attempts > 1) {
        return new Response('{"title":"down"}', { status: 500 });
      }
      return fetch(input, init);
    };
    const common = { baseUrl: server.url, apiKey: server.credentials.apiKey, database: "faildb" };
    const client = createVbapiClient({
      ...common,
      logLevel: "off",
      token: passwordLogin({ ...USER, ...common, fetch: failingLogin, maxRetries: 1 }),
    });
    const outcomes: string[] = [];
    const started = Date.now();
    let key = 0;
    while (Date.now() - started < 4_000) {
      const round = await Promise.all(
        Array.from({ length: 5 }, () =>
          client
            .upsertBatch(
              "Tolerance",
              tolerances(1).map((r) => ({ ...r, tolerance_Key: ++key })),
            )
            .then(
              () => "ok",
              (e: Error) => e.name,
            ),
        ),
      );
      outcomes.push(...round);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    // Tens to hundreds of calls (as the machine allows); before, each one after the token
    // expired logged in again.
    expect(outcomes.length).toBeGreaterThan(10);
    expect(outcomes).toContain("ok");
    expect(new Set(outcomes.filter((o) => o !== "ok"))).toEqual(new Set(["InternalServerError"]));
    expect(attempts).toBeLessThanOrEqual(10);
  });
});

describe("the login answer", () => {
  const options = {
    ...USER,
    database: "db",
    apiKey: "key",
    baseUrl: "https://vba.test",
    maxRetries: 0,
  };
  it("is refused unread past the response cap, declared or streamed", async () => {
    const huge = DEFAULT_MAX_RESPONSE_BYTES + 1;
    let pulled = 0;
    const streamed = () =>
      new ReadableStream<Uint8Array>({
        pull(controller) {
          // Endless: a login answer that never stops must not be read to the end.
          pulled += 1 << 20;
          controller.enqueue(new Uint8Array(1 << 20).fill(0x20));
        },
      });
    const declared = passwordLogin({
      ...options,
      fetch: async () =>
        new Response("{}", { status: 200, headers: { "content-length": String(huge) } }),
    });
    await expect(declared()).rejects.toThrow(/larger than 33554432 bytes/);
    const endless = passwordLogin({
      ...options,
      fetch: async () => new Response(streamed(), { status: 200 }),
    });
    const error = await endless().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(VbapiError);
    expect(String(error)).toMatch(/user-authentication.*larger than 33554432 bytes/);
    expect(pulled).toBeLessThan(huge + 4 * (1 << 20));
  });
});
