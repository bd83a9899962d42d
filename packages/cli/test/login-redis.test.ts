// The built `vbapi` logging in from the environment (token cached in a 0600 file), and two
// processes sharing one API key's budget and one login through a real Redis (`--redis`).
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type MockServer, startMockServer } from "@vbapi-sdk/mock-server";
import { type RedisServer, redisTestsRun, startRedisServer } from "@vbapi-sdk/tool-redis-harness";
import { afterAll, afterEach, beforeAll, expect, it } from "vitest";

/** The --redis test needs a real redis-server (CI requires one; see lib/redis-harness). */
const withRedis = redisTestsRun("the vbapi --redis test");

import { bin, tempDir, vbapi } from "./helpers.ts";

const USER = {
  username: "carol",
  password: "pw-SECRET-9f8e7d",
  clientId: "cid-7",
  clientCode: "CC7",
};
let server: MockServer;
let redis: RedisServer;
beforeAll(async () => {
  if (withRedis) redis = await startRedisServer();
});
afterAll(async () => {
  await redis?.stop();
});
afterEach(async () => {
  await server?.close();
});

function loginEnv(cacheHome: string): Record<string, string | undefined> {
  return {
    VBAPI_API_KEY: server.credentials.apiKey,
    VBAPI_TOKEN: undefined,
    VBAPI_USERNAME: USER.username,
    VBAPI_PASSWORD: USER.password,
    VBAPI_CLIENT_ID: USER.clientId,
    VBAPI_CLIENT_CODE: USER.clientCode,
    VBAPI_BASE_URL: server.url,
    VBAPI_DATABASE: "LOGINDB",
    VBAPI_REDIS_URL: undefined,
    XDG_CACHE_HOME: cacheHome,
  };
}

function csv(dir: string, name: string, from: number, n: number): string {
  const rows = Array.from({ length: n }, (_, i) => `${from + i},1.5`);
  const path = join(dir, name);
  writeFileSync(path, `tolerance_Key,tolerance1\n${rows.join("\n")}\n`);
  return path;
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name));
}

it("logs in from the environment once, keeps the token in a 0600 file, and writes no secret", async () => {
  server = await startMockServer({ rateLimit: false, users: [{ ...USER, database: "LOGINDB" }] });
  const dir = tempDir();
  const cacheHome = join(dir, "cache");
  const env = loginEnv(cacheHome);
  const first = await vbapi(
    ["upsert", "tolerances", csv(dir, "a.csv", 1, 30), "--out", join(dir, "run1"), "--quiet"],
    { env },
  );
  expect(first.code, first.stderr).toBe(0);
  const second = await vbapi(
    ["upsert", "tolerances", csv(dir, "b.csv", 31, 30), "--out", join(dir, "run2"), "--quiet"],
    { env },
  );
  expect(second.code, second.stderr).toBe(0);
  expect(server.store.list("LOGINDB", "Tolerance")).toHaveLength(60);
  // The second process took the cached token: one login for both.
  expect(server.stats.logins.succeeded).toBe(1);
  const cached = filesUnder(join(cacheHome, "vbapi"));
  expect(cached.length).toBeGreaterThan(0);
  for (const file of cached) expect(statSync(file).mode & 0o777).toBe(0o600);
  for (const file of filesUnder(join(dir, "run1")).concat(filesUnder(join(dir, "run2")))) {
    const text = readFileSync(file, "utf8");
    expect(text).not.toContain(USER.password);
    expect(text).not.toContain(server.credentials.apiKey);
  }
  for (const text of [first.stdout, first.stderr, second.stdout, second.stderr]) {
    expect(text).not.toContain(USER.password);
  }
});

it("a wrong password stops with exit 3 before any row is sent, naming the reason", async () => {
  server = await startMockServer({ rateLimit: false, users: [{ ...USER, database: "LOGINDB" }] });
  const dir = tempDir();
  const env = { ...loginEnv(join(dir, "cache")), VBAPI_PASSWORD: "not-the-password" };
  const result = await vbapi(
    ["upsert", "tolerances", csv(dir, "a.csv", 1, 10), "--out", join(dir, "run"), "--quiet"],
    { env },
  );
  expect(result.code).toBe(3);
  expect(result.stderr).toMatch(/password is incorrect/);
  expect(result.stderr).not.toContain("not-the-password");
  expect(server.store.list("LOGINDB", "Tolerance")).toHaveLength(0);
});

it.runIf(withRedis)(
  "--redis: two processes under one API key share the budget and one login, with no 429",
  async () => {
    // The server's burst is 20 above the shared budget's 36: a second of jitter at 20/s between
    // a permit and its request reaching the server (the whole suite beside this test once made
    // a burst of 40 answer 4 × 429). 80 requests each: however the budget is shared, each
    // process is still sending when the other starts, up to two seconds apart, and both are
    // sending at once (checked below from their journals). Processes that did not share the
    // budget would send 72 requests at once, then 40/s: 429s.
    server = await startMockServer({
      rateLimit: { requestsPerSecond: 20, burst: 56 },
      users: [{ ...USER, database: "LOGINDB" }],
    });
    const dir = tempDir();
    const env = { ...loginEnv(join(dir, "cache-not-used")), VBAPI_REDIS_URL: redis.url };
    // Two processes (bin): runs in one worker would go one at a time.
    const run = (name: string, from: number) =>
      bin(
        [
          "upsert",
          "tolerances",
          csv(dir, `${name}.csv`, from, 800),
          "--chunk-size",
          "10",
          "--rate-limit",
          "20",
          "--out",
          join(dir, name),
          "--quiet",
        ],
        { env },
      );
    const [a, b] = await Promise.all([run("a", 1), run("b", 1001)]);
    expect(a.code, a.stderr).toBe(0);
    expect(b.code, b.stderr).toBe(0);
    expect(server.store.list("LOGINDB", "Tolerance")).toHaveLength(1600);
    expect(server.stats.logins.succeeded).toBe(1);
    // The two sent at the same time (else no budget would be tested): each one's requests (the
    // journal's "q" lines, with the time each answer came) overlap the other's.
    const window = (name: string) => {
      const times = readFileSync(join(dir, name, "journal.ndjson"), "utf8")
        .split("\n")
        .filter((line) => line.startsWith('{"t":"q"'))
        .map((line) => (JSON.parse(line) as { ts: number }).ts);
      expect(times.length).toBeGreaterThanOrEqual(80); // more when a request was retried
      return { first: Math.min(...times), last: Math.max(...times) };
    };
    const [wa, wb] = [window("a"), window("b")];
    expect(Math.max(wa.first, wb.first)).toBeLessThan(Math.min(wa.last, wb.last));
    // The shared budget is what keeps the server's bucket from running out.
    const perKey = Object.values(server.stats.byApiKey);
    expect(perKey.reduce((n, k) => n + k.rateLimited, 0)).toBe(0);
  },
  60_000,
);
