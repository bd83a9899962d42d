// Token lifetimes and clocks, as a property: for random lifetimes (1 s to 24 h), server clocks
// hours ahead or behind (tokens with and without `iat`), 1 to 50 concurrent callers and 1 to 3
// processes sharing a cache, a login provider behind a real client never logs in more than about
// twice per token lifetime and no call fails for want of a token.
//
// Time is simulated (only `Date` is faked; timers stay real) so that a day-long token can be
// lived through; the server is a simulated VBA behind a custom fetch that issues JWTs on its own
// clock and refuses expired ones with a 401, as VBA does.
import fc from "fast-check";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createVbapiClient } from "../src/client/client.ts";
import {
  memoryTokenCache,
  passwordLogin,
  type StoredToken,
  type TokenCache,
} from "../src/index.ts";

const SECOND = 1_000;
const HOUR = 3_600 * SECOND;

interface World {
  lifetimeMs: number;
  /** Server clock minus this machine's. */
  skewMs: number;
  /** Tokens carry `iat`. */
  iat: boolean;
  /** Answers carry a `Date` header (every HTTP/1.1 server with a clock sends one). */
  date: boolean;
  /** How long a login takes; the token is issued halfway through. */
  loginLatencyMs?: number;
}

function base64url(text: string): string {
  return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** A simulated VBA: logins issue JWTs on the server's clock; batch calls check them. */
function simulatedVba(world: World) {
  const stats = { logins: 0, unauthorized: 0, accepted: 0 };
  const serverNow = () => Date.now() + world.skewMs;
  const headers = () => {
    const h = new Headers({ "content-type": "application/json" });
    if (world.date) h.set("date", new Date(serverNow()).toUTCString());
    return h;
  };
  const fetch: typeof globalThis.fetch = async (input, init) => {
    const url = new URL(String(input));
    if (url.pathname.endsWith("/user-authentication")) {
      stats.logins++;
      const half = (world.loginLatencyMs ?? 0) / 2;
      vi.setSystemTime(Date.now() + half);
      const now = serverNow();
      vi.setSystemTime(Date.now() + half);
      const claims = {
        exp: (now + world.lifetimeMs) / 1000,
        ...(world.iat && { iat: now / 1000 }),
        jti: stats.logins,
      };
      const idToken = `${base64url('{"alg":"HS256"}')}.${base64url(JSON.stringify(claims))}.sig`;
      return new Response(JSON.stringify({ data: { authenticationResult: { idToken } } }), {
        status: 200,
        headers: headers(),
      });
    }
    const bearer = String(
      (init?.headers as Record<string, string> | undefined)?.authorization,
    ).slice(7);
    const claims = JSON.parse(atob(bearer.split(".")[1] as string)) as { exp: number };
    if (serverNow() >= claims.exp * 1000) {
      stats.unauthorized++;
      return new Response(JSON.stringify({ title: "expired" }), {
        status: 401,
        headers: headers(),
      });
    }
    stats.accepted++;
    const [record] = JSON.parse(String(init?.body)) as [{ tolerance_Key: number }];
    const data = [
      { id: [{ key: "tolerance_Key", value: record.tolerance_Key }], status: 200, body: "ok" },
    ];
    return new Response(JSON.stringify({ data, error: null, debug: null }), {
      status: 207,
      headers: headers(),
    });
  };
  return { fetch, stats };
}

/** A cache shared by the simulated processes, with the cross-process lock Redis and the CLI's file cache have. */
function sharedCache(): TokenCache {
  const inner = memoryTokenCache();
  let queue: Promise<unknown> = Promise.resolve();
  return {
    get: (key) => inner.get(key),
    set: (key, value: StoredToken) => inner.set(key, value),
    delete: (key) => inner.delete(key),
    withLock(_key, _ttl, fn) {
      const run = queue.then(fn, fn);
      queue = run.catch(() => undefined);
      return run;
    },
  };
}

/** Lets background renewals (which take no simulated time) finish. */
async function settle() {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
}

const START = Date.UTC(2026, 11, 7, 12);

beforeEach(() => {
  vi.useFakeTimers({ toFake: ["Date"], now: START });
});
afterEach(() => {
  vi.useRealTimers();
});

async function live(
  world: World,
  processes: number,
  steps: readonly { advanceMs: number; callers: number }[],
) {
  const vba = simulatedVba(world);
  const cache = sharedCache();
  const clients = Array.from({ length: processes }, () =>
    createVbapiClient({
      baseUrl: "https://vba.test/vbasoftware",
      apiKey: "key",
      database: "db",
      fetch: vba.fetch,
      rateLimit: false,
      maxRetries: 0,
      token: passwordLogin({
        username: "u",
        password: "p",
        clientId: "c",
        clientCode: "cc",
        database: "db",
        apiKey: "key",
        baseUrl: "https://vba.test/vbasoftware",
        fetch: vba.fetch,
        cache,
        maxRetries: 0,
      }),
    }),
  );
  let elapsed = 0;
  let key = 0;
  for (const step of steps) {
    elapsed += step.advanceMs;
    vi.setSystemTime(START + elapsed);
    const results = await Promise.all(
      Array.from({ length: step.callers }, (_, i) =>
        (clients[i % processes] as (typeof clients)[number])
          .upsertBatch("Tolerance", [{ tolerance_Key: ++key, tolerance1: 1 }])
          .then((r) => r.succeeded),
      ),
    );
    // No call fails for want of a token (each succeeded record counts 1).
    expect(results.every((n) => n === 1)).toBe(true);
    await settle();
  }
  return { elapsed, stats: vba.stats };
}

const lifetimeArb = fc.oneof(
  fc.integer({ min: SECOND, max: 10 * SECOND }),
  fc.integer({ min: 10 * SECOND, max: HOUR }),
  fc.integer({ min: HOUR, max: 24 * HOUR }),
);
const skewArb = fc.oneof(
  fc.constant(0),
  fc.integer({ min: -6 * HOUR, max: 6 * HOUR }),
  fc.constantFrom(-2 * HOUR, 2 * HOUR, -26 * HOUR, 26 * HOUR),
);

describe("passwordLogin over simulated time", () => {
  it("logs in at most about twice per token lifetime, whatever the lifetime, skew, callers and processes", async () => {
    await fc.assert(
      fc.asyncProperty(
        lifetimeArb,
        skewArb,
        fc.boolean(),
        fc.integer({ min: 1, max: 3 }),
        fc.array(
          fc.record({
            // From back-to-back calls to idle gaps longer than a token lives.
            advance: fc.oneof(
              fc.double({ min: 0, max: 0.3, noNaN: true }),
              fc.double({ min: 0, max: 3, noNaN: true }),
            ),
            callers: fc.integer({ min: 1, max: 50 }),
          }),
          { minLength: 1, maxLength: 25 },
        ),
        fc.double({ min: 0, max: 0.25, noNaN: true }),
        async (lifetimeMs, skewMs, iat, processes, plan, latency) => {
          // A login takes up to a quarter of the token's lifetime.
          const world = {
            lifetimeMs,
            skewMs,
            iat,
            date: true,
            loginLatencyMs: latency * lifetimeMs,
          };
          const steps = plan.map((s) => ({
            advanceMs: Math.round(s.advance * lifetimeMs),
            callers: s.callers,
          }));
          const { elapsed, stats } = await live(world, processes, steps);
          const lifetimes = elapsed / lifetimeMs;
          expect(stats.logins).toBeLessThanOrEqual(2 * Math.ceil(lifetimes) + 2);
          // With `iat` the lifetime is known: no request ever goes out with an expired token,
          // however long the login took.
          if (iat) expect(stats.unauthorized).toBe(0);
        },
      ),
      {
        numRuns: 150,
        // Found by the property: 1-second tokens, no iat, the server 2 h behind, three processes
        // (a Date header rounded down made the first token look 2 ms long).
        examples: [[1000, -7_200_000, false, 3, [{ advance: 0, callers: 3 }], 0.002]],
      },
    );
  }, 120_000);

  it.each([
    ["server 2 h behind", -2 * HOUR],
    ["server 2 h ahead", 2 * HOUR],
    ["same clock", 0],
  ])(
    "5-minute tokens with iat, %s: 2 logins per lifetime at most, none refused",
    async (_, skewMs) => {
      const lifetimeMs = 5 * 60 * SECOND;
      const steps = Array.from({ length: 200 }, () => ({ advanceMs: 3 * SECOND, callers: 5 }));
      const { elapsed, stats } = await live(
        { lifetimeMs, skewMs, iat: true, date: true },
        1,
        steps,
      );
      // 10 minutes of calls every 3 s: before the change, a login before every call.
      expect(elapsed).toBe(10 * 60 * SECOND);
      expect(stats.logins).toBeLessThanOrEqual(5);
      expect(stats.unauthorized).toBe(0);
    },
  );

  it("a token whose exp is already past by this machine's clock, with no iat and no Date, is used until VBA refuses it", async () => {
    const lifetimeMs = 10 * 60 * SECOND;
    const steps = Array.from({ length: 120 }, () => ({ advanceMs: 10 * SECOND, callers: 3 }));
    const { stats } = await live(
      { lifetimeMs, skewMs: -2 * HOUR, iat: false, date: false },
      2,
      steps,
    );
    // 20 minutes = 2 lifetimes: the token is replaced when VBA refuses it (a 401 renews once),
    // never before each call.
    expect(stats.accepted).toBe(360);
    expect(stats.logins).toBeLessThanOrEqual(3);
    expect(stats.unauthorized).toBeLessThanOrEqual(3);
  });

  it("without iat, the Date header gives the server's clock: no 401 with the server hours apart", async () => {
    const lifetimeMs = 60 * SECOND;
    const steps = Array.from({ length: 100 }, () => ({ advanceMs: 2 * SECOND, callers: 4 }));
    for (const skewMs of [-3 * HOUR, 3 * HOUR]) {
      const { elapsed, stats } = await live(
        { lifetimeMs, skewMs, iat: false, date: true },
        1,
        steps,
      );
      expect(stats.logins).toBeLessThanOrEqual(2 * Math.ceil(elapsed / lifetimeMs) + 1);
      expect(stats.unauthorized).toBe(0);
    }
  });
});

describe("claims that cannot be a token's lifetime", () => {
  const jwt = (claims: object) => `h.${base64url(JSON.stringify(claims))}.s`;
  const sent = Date.UTC(2026, 11, 7, 12);
  it.each([
    ["exp and iat in milliseconds", { iat: sent, exp: sent + 300_000 }, 300_000, "iat"],
    ["exp in milliseconds, no iat", { exp: sent + 300_000 }, 299_950, "local-clock"],
    ["iat of 0 (not a time)", { iat: 0, exp: sent / 1000 + 300 }, 299_950, "local-clock"],
    ["iat years before exp", { iat: 1, exp: sent / 1000 + 300 }, 299_950, "local-clock"],
    [
      "exp before iat, 50 ms past (within the clocks' agreement): about to expire",
      { iat: sent / 1000 + 300, exp: sent / 1000 },
      1_000,
      "local-clock",
    ],
    [
      "exp before iat, an hour past by every clock: unreadable",
      { iat: sent / 1000 + 300, exp: sent / 1000 - 3600 },
      86_400_000,
      "default",
    ],
  ] as const)("%s: measured as %s ms", async (_, claims, lifetimeMs, source) => {
    const { measureToken } = await import("../src/auth/token-life.ts");
    const measured = measureToken(jwt(claims), sent, sent + 50, null);
    expect(measured).toMatchObject({ lifetimeMs, source });
  });

  it.each([
    ["1.5 s behind", -1_500],
    ["1.9 s behind", -1_900],
    ["1.5 s ahead", 1_500],
    ["1.9 s ahead", 1_900],
  ])(
    "a 1-second token without iat, the server's clock %s (inside the clocks' agreement): a second, not a day",
    async (_, skewMs) => {
      const { measureToken } = await import("../src/auth/token-life.ts");
      const arrived = sent + 50;
      const serverNow = arrived + skewMs;
      const token = jwt({ exp: (serverNow + 1_000) / 1000 });
      const date = new Date(Math.floor(serverNow / 1000) * 1000).toUTCString();
      const measured = measureToken(token, sent, arrived, date);
      expect(measured.lifetimeMs).toBeLessThanOrEqual(1_000);
      expect(measured.lifetimeMs).toBeGreaterThan(0);
    },
  );

  it("a 5-minute token with iat is counted from when the login was sent, not when it arrived", async () => {
    const { measureToken } = await import("../src/auth/token-life.ts");
    const token = jwt({ iat: sent / 1000 + 1, exp: sent / 1000 + 301 });
    const measured = measureToken(token, sent, sent + 4_000, null);
    expect(measured).toMatchObject({
      lifetimeMs: 300_000,
      expiresAt: sent + 300_000,
      source: "iat",
    });
  });
});
