// Short-lived tokens and clocks that disagree, over real HTTP against the reference server: a
// bulk run over two lifetimes of 3-second ID tokens never sends a token the SDK knew to be stale
// and logs in once per half-life (not before every call), whether the server's clock is hours
// ahead or behind and whether its tokens carry `iat`; the login answer is read under the same
// size cap as every other answer. Every check reads the SDK's decisions from when it made them,
// so a loaded machine (the whole suite on two cores) slows the tests down but does not fail them.
// The same runs on a machine of their own, with no 401 at all, are `pnpm bench`'s
// (tools/bench/src/tokens.ts).
import { type MockServer, startMockServer } from "@vbapi-sdk/mock-server";
import { afterAll, describe, expect, it, vi } from "vitest";
import { DEFAULT_MAX_RESPONSE_BYTES } from "../src/base/defaults.ts";
import { upsertAllTolerances } from "../src/bulk/index.ts";
import { createVbapiClient } from "../src/client/client.ts";
import { passwordLogin, VbapiError } from "../src/index.ts";

// Runs that wait out real token lifetimes, 8 at a time: one took 13.7 s of the default 20 s
// beside the whole suite in CI. A hang still fails, after a minute.
vi.setConfig({ testTimeout: 60_000 });

const USER = { username: "bob", password: "pw-Short-Lived-1", clientId: "c-1", clientCode: "CC" };
const HOUR = 3_600_000;
const servers: MockServer[] = [];
afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

const tolerances = (n: number) =>
  Array.from({ length: n }, (_, i) => ({ tolerance_Key: i + 1, tolerance1: 1.5 }));

/**
 * What the SDK did, seen through fetch functions that only watch and pass every call on to the
 * real fetch: when each request was handed to fetch and with which token (and its answer), when
 * each login was sent and which token it got. The checks below read the SDK's decisions from
 * these times, not from how long anything took: on a loaded machine a request may spend seconds
 * between the SDK and the server, which the SDK cannot prevent and these tests do not blame it for.
 */
function watch() {
  const requests: {
    sentAt: number;
    token: string;
    /** The first record's tolerance_Key (the body is a string here: the SDK's JSON). */
    key?: unknown;
    status?: number;
    answeredAt?: number;
  }[] = [];
  // answeredAt: when the login's whole answer had been read (the SDK reads it alongside).
  const logins: { sentAt: number; token?: string; answeredAt?: number }[] = [];
  const batchFetch: typeof fetch = async (input, init) => {
    const authorization = new Headers(init?.headers).get("authorization") ?? "";
    const seen: (typeof requests)[number] = { sentAt: Date.now(), token: authorization.slice(7) };
    if (typeof init?.body === "string") seen.key = JSON.parse(init.body)[0]?.tolerance_Key;
    requests.push(seen);
    const response = await fetch(input, init);
    seen.status = response.status;
    seen.answeredAt = Date.now();
    return response;
  };
  const loginFetch: typeof fetch = async (input, init) => {
    const seen: (typeof logins)[number] = { sentAt: Date.now() };
    logins.push(seen);
    const response = await fetch(input, init);
    const body = (await response.clone().json()) as {
      data?: { authenticationResult?: { idToken?: string } };
    };
    seen.token = body.data?.authenticationResult?.idToken;
    seen.answeredAt = Date.now();
    return response;
  };
  return { requests, logins, batchFetch, loginFetch };
}

/** The token's `exp` in epoch ms, read here rather than by the SDK's parser (the thing tested). */
const expOf = (token: string): number =>
  (JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString()) as { exp: number })
    .exp * 1000;

/**
 * Scheduling slack: the process may be preempted (or collect garbage) between the SDK's decision
 * and the watcher's reading of the clock.
 */
const SLACK_MS = 150;
/** How soon after a login's answer the callers that waited for it send (a loaded machine). */
const WAITERS_MS = 500;

/**
 * The SDK's token discipline, from the times it acted on:
 * - no request is handed to fetch with a token closer to its expiry (the server's `exp`, on this
 *   machine's clock) than `keepMs`: the SDK stops handing a token out a quarter of its lifetime
 *   (at most a second) before the expiry it measured, never later than the real one;
 * - no login while the previous token is fresh: each login is sent at least `halfLifeMs` after
 *   the one before (the renewal at half-life), unless the server answered 401 to the previous
 *   login's token first (then the SDK renews once).
 */
function expectTokenDiscipline(
  seen: ReturnType<typeof watch>,
  o: { serverClockMs: number; keepMs: number; halfLifeMs: number },
) {
  const expiresAt = (token: string) => expOf(token) - o.serverClockMs;
  const early = seen.requests.filter((r) => expiresAt(r.token) - r.sentAt < o.keepMs - SLACK_MS);
  const blamed = early.filter((r) => {
    // A login answered inside the token's last `keepMs` (a loaded machine held its answer up) left
    // the SDK no fresher token: the callers waiting for it are handed it at once (the test below
    // pins that down without load). Only those count as excused, not a reuse of the token later.
    const answeredAt = seen.logins.find((l) => l.token === r.token)?.answeredAt;
    if (answeredAt === undefined) return true;
    const late = answeredAt >= expiresAt(r.token) - o.keepMs - SLACK_MS;
    return !(late && r.sentAt - answeredAt <= WAITERS_MS);
  });
  expect(blamed.map((r) => `${expiresAt(r.token) - r.sentAt} ms left`)).toEqual([]);
  const logins = [...seen.logins].sort((a, b) => a.sentAt - b.sentAt);
  const unprompted = logins.slice(1).filter((login, k) => {
    const before = logins[k] as (typeof logins)[number];
    if (login.sentAt - before.sentAt >= o.halfLifeMs - SLACK_MS) return false;
    const refused = (r: (typeof seen.requests)[number]) =>
      r.status === 401 && r.token === before.token && (r.answeredAt ?? 0) <= login.sentAt;
    return !seen.requests.some(refused);
  });
  expect(unprompted.map((l) => `login at +${l.sentAt - (logins[0]?.sentAt ?? 0)} ms`)).toEqual([]);
}

/**
 * Every record has one outcome, and every record is created unless a 401 stopped the run. On a
 * machine of its own none fails (`pnpm bench` asserts 0: tools/bench/src/tokens.ts). On a loaded
 * one a request handed over in time (expectTokenDiscipline) can still reach the server after its
 * token expired: a 401, one renewal, and a second 401 only if the retry is held up as long, which
 * stops the run (a 401 after a renewal is the server's refusal). Nothing else may fail.
 */
function expectAccounted(report: Awaited<ReturnType<typeof upsertAllTolerances>>, n: number) {
  const failed = report.items.filter((item) => item.outcome === "failed");
  expect(failed.map((item) => item.status).filter((status) => status !== 401)).toEqual([]);
  if (failed.length > 0) expect(report.stopped?.reason).toBe("refused");
  else expect(report.totals).toMatchObject({ created: n, failed: 0, notAttempted: 0 });
  const { created, updated, notAttempted } = report.totals;
  expect(created + updated + failed.length + notAttempted).toBe(n);
}

const LIFETIME_MS = 3_000;

async function run(options: { clockOffsetMs: number; tokenIssuedAt: boolean }) {
  // VBA's limits (25/s, burst 50; logins 1/s, burst 10) and 3-second ID tokens.
  const server = await startMockServer({
    users: [{ ...USER, database: "shortdb" }],
    tokenLifetimeMs: LIFETIME_MS,
    latency: { fixedMs: 5, jitterMs: 5 },
    ...options,
  });
  servers.push(server);
  const seen = watch();
  const common = { baseUrl: server.url, apiKey: server.credentials.apiKey, database: "shortdb" };
  const client = createVbapiClient({
    ...common,
    fetch: seen.batchFetch,
    // 10 requests/s: two token lifetimes with a third of the requests (and of the CPU) that
    // VBA's 25/s would take, so that five runs side by side on a loaded machine stay light.
    rateLimit: { requestsPerSecond: 10, burst: 10 },
    token: passwordLogin({ ...USER, ...common, fetch: seen.loginFetch }),
  });
  // 70 one-record requests at 10/s after a burst of 10: a six-second run, two token lifetimes.
  const report = await upsertAllTolerances(client, tolerances(70), { chunkSize: 1 });
  return { report, seen, stats: server.stats };
}

// No assertion here depends on how long anything took, so the timeout is only a hang detector:
// side by side with the whole suite on two cores, a six-second run has taken over 20 s.
describe("short-lived tokens, clocks apart, slow and failing logins (concurrently)", {
  timeout: 60_000,
}, () => {
  it.concurrent.each([
    ["same clock, tokens with iat", 0, true],
    ["server clock 2 h behind, tokens with iat", -2 * HOUR, true],
    ["server clock 2 h ahead, tokens with iat", 2 * HOUR, true],
    ["server clock 2 h behind, tokens without iat", -2 * HOUR, false],
    ["server clock 2 h ahead, tokens without iat", 2 * HOUR, false],
  ] as const)(
    "%s: no stale token sent, no login before half-life, every record accounted for",
    async (_, clockOffsetMs, iat) => {
      const { report, seen, stats } = await run({ clockOffsetMs, tokenIssuedAt: iat });
      // With `iat` the SDK knows the lifetime (3 s): it renews at 1.5 s and keeps 750 ms. Without
      // it, the lifetime is read from `exp` and the server's whole-second Date header: at least a
      // second, so at least 500 ms between logins and 250 ms kept.
      expectTokenDiscipline(seen, {
        serverClockMs: clockOffsetMs,
        keepMs: iat ? LIFETIME_MS / 4 : 250,
        halfLifeMs: iat ? LIFETIME_MS / 2 : 500,
      });
      expect(stats.logins.succeeded).toBe(seen.logins.length);
      // Unless a 401 stopped it (expectAccounted), the run spanned two lifetimes: renewed twice.
      if (report.stopped === undefined) {
        const first = seen.logins[0]?.sentAt ?? 0;
        expect(Math.max(...seen.requests.map((r) => r.sentAt)) - first).toBeGreaterThan(
          LIFETIME_MS * 1.5,
        );
        expect(stats.logins.succeeded).toBeGreaterThanOrEqual(3);
      }
      expect(stats.logins.rateLimited).toBe(0);
      expectAccounted(report, 70);
    },
  );

  it.concurrent("a login that takes a third of the token's lifetime: the lifetime counts from sending, no stale token sent", async () => {
    // Every answer, the login's included, takes 1 to 1.3 s; tokens live 3 s. Counting the
    // lifetime from the answer's arrival (not from sending) made every token look a second
    // longer-lived: it was handed out after it expired (36 answers 401). The jitter spreads the
    // requests over the renewal's second, where the SDK must hold the old token back 750 ms
    // before its expiry and make callers wait for the new one.
    const server = await startMockServer({
      users: [{ ...USER, database: "slowdb" }],
      tokenLifetimeMs: LIFETIME_MS,
      rateLimit: false,
      loginRateLimit: false,
      latency: { fixedMs: 1_000, jitterMs: 300 },
    });
    servers.push(server);
    const seen = watch();
    const common = { baseUrl: server.url, apiKey: server.credentials.apiKey, database: "slowdb" };
    const client = createVbapiClient({
      ...common,
      fetch: seen.batchFetch,
      token: passwordLogin({ ...USER, ...common, fetch: seen.loginFetch }),
    });
    // 16 requests, 4 at a time: about four rounds of renewal (each login holds callers up to a
    // second and a quarter).
    const report = await upsertAllTolerances(client, tolerances(80), {
      chunkSize: 5,
      concurrency: 4,
    });
    expectTokenDiscipline(seen, { serverClockMs: 0, keepMs: 750, halfLifeMs: 1_500 });
    if (report.stopped === undefined)
      expect(server.stats.logins.succeeded).toBeGreaterThanOrEqual(2);
    expectAccounted(report, 80);
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
    // Four seconds (two past the token's expiry) and 60 calls at least, however slow the machine.
    while (Date.now() - started < 4_000 || outcomes.length < 60) {
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
    // Before, each call after the token expired logged in again. Now: the first login, then
    // failed renewals of at most two attempts each (maxRetries 1), the k-th no earlier than
    // 2^(k-1) - 1 s after the first (the shared backoff doubles from a second), so within the
    // loop's time, however long the machine made it.
    const seconds = (Date.now() - started) / 1000;
    const renewals = Math.floor(Math.log2(seconds + 1)) + 1;
    expect(outcomes).toContain("ok");
    expect(new Set(outcomes.filter((o) => o !== "ok"))).toEqual(new Set(["InternalServerError"]));
    expect(attempts).toBeLessThanOrEqual(1 + 2 * renewals);
    expect(attempts).toBeLessThan(outcomes.length / 4);
  });
});

describe("a login answered in its token's last second", () => {
  it("hands its token to the callers that waited for it (the freshest there is); the next caller logs in again", async () => {
    // 4-second tokens: the SDK stops handing one out a second before it expires.
    const lifetimeMs = 4_000;
    const server = await startMockServer({
      users: [{ ...USER, database: "latedb" }],
      tokenLifetimeMs: lifetimeMs,
      rateLimit: false,
      loginRateLimit: false,
    });
    servers.push(server);
    const seen = watch();
    // The second login's answer is held back until 900 ms before its token expires: past the
    // second the SDK keeps, with 900 ms for its callers' requests to reach the server (a loaded
    // machine has taken 450 ms between a login's answer and the requests it released). The
    // others answer at once.
    let logins = 0;
    const lateSecond: typeof fetch = async (input, init) => {
      const sentAt = Date.now();
      const response = await seen.loginFetch(input, init);
      if (++logins === 2) {
        const wait = sentAt + lifetimeMs - 900 - Date.now();
        await new Promise((resolve) => setTimeout(resolve, wait));
      }
      return response;
    };
    const common = { baseUrl: server.url, apiKey: server.credentials.apiKey, database: "latedb" };
    const client = createVbapiClient({
      ...common,
      fetch: seen.batchFetch,
      token: passwordLogin({ ...USER, ...common, fetch: lateSecond }),
    });
    const upsert = (key: number) =>
      client.upsertBatch("Tolerance", [{ tolerance_Key: key, tolerance1: 1 }]);
    await upsert(1);
    // Past the first token's last second: nothing renewed it in the background (no calls).
    await new Promise((resolve) => setTimeout(resolve, lifetimeMs - 800));
    // Three callers wait for the late login and are each handed its token.
    await Promise.all([upsert(2), upsert(3), upsert(4)]);
    // The next caller does not reuse a token inside its last second: it waits for a new login.
    await upsert(5);
    const tokens = seen.logins.map((l) => l.token);
    // The first request for each key, by the token it carried (which login got it).
    const firstFor = (key: number) => seen.requests.find((r) => r.key === key);
    const tokenOf = (key: number) => tokens.indexOf(firstFor(key)?.token);
    expect([1, 2, 3, 4, 5].map(tokenOf)).toEqual([0, 1, 1, 1, 2]);
    // Handed over before the late token expired (by the server's `exp`): whether they reached
    // VBA in time is the machine's (on a loaded one a 401 renews once; the records still go).
    for (const key of [2, 3, 4]) {
      const request = firstFor(key) as (typeof seen.requests)[number];
      expect(expOf(request.token) - request.sentAt).toBeGreaterThan(0);
    }
    expect(seen.requests.every((r) => r.status === 207 || r.status === 401)).toBe(true);
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
