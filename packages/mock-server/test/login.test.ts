// The login (POST /user-authentication) and login mode over real HTTP: ID tokens (HS256 JWTs
// signed by this server), 401 for wrong credentials and for expired or foreign tokens, the login
// rate limit, and the counters.
import Ajv2020 from "ajv/dist/2020.js";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  apiKeyId,
  type MockServer,
  type MockUser,
  type RequestLogEntry,
  startMockServer,
} from "../src/index.ts";
import { admin, put, spec } from "./helpers.ts";

const PASSWORD = "correct-horse-battery";
const users: MockUser[] = [
  { username: "alice", password: PASSWORD, clientId: "client-1", clientCode: "CODE1" },
  {
    username: "bob",
    password: "bobs-pw",
    clientId: "client-2",
    clientCode: "CODE2",
    database: "db-b",
  },
];
const record = [{ tolerance_Key: 1, tolerance1: 1 }];

interface LoginInput {
  username?: string;
  password?: string;
  clientId?: string;
  clientCode?: string;
  database?: string;
  headers?: Record<string, string | undefined>;
}

async function login(server: MockServer, input: LoginInput = {}) {
  const {
    username = "alice",
    password = PASSWORD,
    clientId = "client-1",
    clientCode = "CODE1",
    database = "testdb",
  } = input;
  const headers: Record<string, string> = {};
  const all: Record<string, string | undefined> = {
    "x-api-key": server.credentials.apiKey,
    "user-agent": "login-test",
    authorization: `Basic ${Buffer.from(`${username}:${password}`).toString("base64")}`,
    "vbasoftware-client-id": clientId,
    "vbasoftware-client-code": clientCode,
    "vbasoftware-database": database,
    ...input.headers,
  };
  for (const [k, v] of Object.entries(all)) if (v !== undefined) headers[k] = v;
  const res = await fetch(`${server.url}/user-authentication`, { method: "POST", headers });
  const text = await res.text();
  let json: Record<string, unknown> | undefined;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  // biome-ignore lint/suspicious/noExplicitAny: test convenience for reading JSON answers
  return { status: res.status, headers: res.headers, text, json: json as any };
}

const tokenOf = (answer: { json: { data: { authenticationResult: { idToken: string } } } }) =>
  answer.json.data.authenticationResult.idToken;

function decode(part: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(part, "base64url").toString("utf8"));
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

describe("login mode", () => {
  let server: MockServer;
  beforeAll(async () => {
    server = await startMockServer({
      rateLimit: false,
      apiKeys: ["key-1", "key-2"],
      users,
      tokenLifetimeMs: 1_500, // short, yet long enough for a loaded CI machine
      loginRateLimit: { requestsPerSecond: 1, burst: 3 },
    });
  });
  afterAll(() => server.close());
  beforeEach(() => {
    server.reset();
    server.setLoginRateLimit({ requestsPerSecond: 1, burst: 3 });
  });

  it("issues an HS256 ID token that the batch routes accept, in the spec's envelope", async () => {
    const t0 = Date.now();
    const res = await login(server, { headers: { accept: "application/json" } });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/json; charset=utf-8");
    const ajv = new Ajv2020.default({ strict: false });
    ajv.addSchema(spec, "spec");
    const validate = ajv.getSchema("spec#/components/schemas/UserAuthenticationVBAResponse");
    expect(validate?.(res.json), JSON.stringify(validate?.errors)).toBe(true);
    const token = tokenOf(res);
    const [header, payload] = token.split(".") as [string, string, string];
    expect(decode(header)).toEqual({ alg: "HS256", typ: "JWT" });
    const claims = decode(payload);
    expect(claims).toMatchObject({ sub: "alice", database: "testdb", aud: "client-1" });
    expect((claims.exp as number) * 1000).toBeGreaterThanOrEqual(t0 + 1_500);
    expect((claims.exp as number) * 1000).toBeLessThanOrEqual(Date.now() + 1_500);
    expect(res.json.data.authenticationResult).toMatchObject({ tokenType: "Bearer" });
    expect(res.text).not.toContain(PASSWORD);
    expect((await put(server, "/tolerances-batch", record, bearer(token))).status).toBe(207);
    const stats = server.stats;
    expect(stats.logins).toEqual({ succeeded: 1, failed: 0, rateLimited: 0 });
    expect(stats.byApiKey[apiKeyId("key-1")]).toEqual({ requests: 1, rateLimited: 0, logins: 1 });
    // without an Accept, like the batch answers: JSON labelled text/plain
    expect((await login(server)).headers.get("content-type")).toBe("text/plain; charset=utf-8");
  });

  it("answers 401 naming what was wrong, never the password, and counts the failures", async () => {
    server.setLoginRateLimit(false); // failed logins spend the login budget too
    const cases: Array<[LoginInput, RegExp]> = [
      [{ password: "wrong-password-123" }, /username or password is incorrect/],
      [{ username: "mallory" }, /username or password is incorrect/],
      [{ username: "bob", password: PASSWORD }, /username or password is incorrect/],
      [{ clientId: "client-9" }, /client id or client code/],
      [{ clientCode: "CODE9" }, /client id or client code/],
      [
        { username: "bob", password: "bobs-pw", clientId: "client-2", clientCode: "CODE2" },
        /database/,
      ],
      [{ headers: { authorization: "Bearer something" } }, /HTTP Basic credentials are required/],
      [{ headers: { authorization: "Basic !!not-base64!!" } }, /HTTP Basic credentials/],
      [
        { headers: { authorization: `Basic ${Buffer.from("no-colon").toString("base64")}` } },
        /HTTP Basic/,
      ],
    ];
    for (const [input, detail] of cases) {
      const res = await login(server, input);
      expect(res.status, JSON.stringify(input)).toBe(401);
      expect(res.headers.get("content-type")).toBe("application/problem+json");
      expect(res.json.detail).toMatch(detail);
      for (const secret of [PASSWORD, "wrong-password-123", "bobs-pw"]) {
        expect(res.text).not.toContain(secret);
      }
    }
    expect(server.stats.logins).toEqual({ succeeded: 0, failed: 9, rateLimited: 0 });
    // bob logs in to his own database
    const bob = await login(server, {
      username: "bob",
      password: "bobs-pw",
      clientId: "client-2",
      clientCode: "CODE2",
      database: "db-b",
    });
    expect(bob.status).toBe(200);
  });

  it("checks User-Agent, API key, method and the client headers before the credentials", async () => {
    server.setLoginRateLimit(false);
    expect((await login(server, { headers: { "user-agent": "" } })).status).toBe(403);
    expect((await login(server, { headers: { "x-api-key": "nope" } })).status).toBe(401);
    for (const header of [
      "vbasoftware-client-id",
      "vbasoftware-client-code",
      "vbasoftware-database",
    ]) {
      const res = await login(server, { headers: { [header]: undefined } });
      expect(res.status).toBe(400);
      expect(res.json.detail).toContain(header);
    }
    const get = await fetch(`${server.url}/user-authentication`);
    expect(get.status).toBe(405);
    expect(get.headers.get("allow")).toBe("POST");
    expect(server.stats.logins.failed).toBe(0);
  });

  it("refuses an expired token with 401 'expired', and a fresh login works again", async () => {
    const token = tokenOf(await login(server));
    expect((await put(server, "/tolerances-batch", record, bearer(token))).status).toBe(207);
    await new Promise((r) => setTimeout(r, 1_600));
    const expired = await put(server, "/tolerances-batch", record, bearer(token));
    expect(expired.status).toBe(401);
    expect(expired.json.detail).toMatch(/expired/);
    expect(expired.text).not.toContain(token);
    const again = tokenOf(await login(server));
    expect(again).not.toBe(token);
    expect((await put(server, "/tolerances-batch", record, bearer(again))).status).toBe(207);
    const minted = server.issueToken("alice", { lifetimeMs: -1 });
    expect((await put(server, "/tolerances-batch", record, bearer(minted))).json.detail).toMatch(
      /expired/,
    );
    expect(server.stats.logins.succeeded).toBe(2); // issueToken is not a login
  });

  it("refuses foreign, forged and static tokens with 401 'invalid'", async () => {
    const other = await startMockServer({ rateLimit: false, apiKeys: ["key-1"], users });
    let foreign: string;
    try {
      foreign = tokenOf(await login(other));
    } finally {
      await other.close();
    }
    const own = tokenOf(await login(server));
    const [header, payload, signature] = own.split(".") as [string, string, string];
    const claims = decode(payload);
    const forgedPayload = Buffer.from(JSON.stringify({ ...claims, sub: "bob" })).toString(
      "base64url",
    );
    const none = Buffer.from(JSON.stringify({ alg: "none", typ: "JWT" })).toString("base64url");
    const later = Buffer.from(
      JSON.stringify({ ...claims, exp: (claims.exp as number) + 3600 }),
    ).toString("base64url");
    for (const token of [
      foreign,
      `${header}.${forgedPayload}.${signature}`,
      `${header}.${later}.${signature}`,
      `${none}.${payload}.`,
      `${none}.${payload}.${signature}`,
      "test-token",
      "a.b.c",
      `${header}.${payload}`,
    ]) {
      const res = await put(server, "/tolerances-batch", record, bearer(token));
      expect(res.status).toBe(401);
      expect(res.json.detail).toMatch(/invalid/);
    }
    expect(server.store.count("testdb", "Tolerance")).toBe(0);
  });

  it("rate limits logins per API key with 429 and Retry-After", async () => {
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    for (let i = 0; i < 5; i++) {
      const res = await login(server);
      statuses.push(res.status);
      if (res.status === 429) {
        retryAfter = res.headers.get("retry-after");
        expect(res.json.detail).toMatch(/logins per second/);
      }
    }
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
    expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
    // the other API key has its own login bucket; the batch routes are not affected
    expect((await login(server, { headers: { "x-api-key": "key-2" } })).status).toBe(200);
    expect(server.stats.logins).toEqual({ succeeded: 4, failed: 0, rateLimited: 2 });
    expect(server.stats.byApiKey[apiKeyId("key-2")]?.logins).toBe(1);
    const remote = await admin(server, "GET", "/stats");
    expect(remote.json.logins).toEqual({ succeeded: 4, failed: 0, rateLimited: 2 });
    // admin-settable
    expect((await admin(server, "GET", "/login-rate-limit")).json).toEqual({
      loginRateLimit: { requestsPerSecond: 1, burst: 3 },
    });
    expect((await admin(server, "PUT", "/login-rate-limit", false)).json).toEqual({
      loginRateLimit: false,
    });
    expect((await login(server)).status).toBe(200);
    server.setLoginRateLimit({ requestsPerSecond: 1, burst: 3 });
    expect(server.loginRateLimit).toEqual({ requestsPerSecond: 1, burst: 3 });
  });

  it("hands out no static bearer token and logs neither passwords nor tokens", async () => {
    expect(server.credentials.token).toBe("");
    expect(server.credentials.headers.authorization).toBeUndefined();
    expect(server.credentials.users.map((u) => u.username)).toEqual(["alice", "bob"]);
    const entries: RequestLogEntry[] = [];
    const logged = await startMockServer({ users, log: (e) => entries.push(e) });
    try {
      const token = tokenOf(await login(logged));
      await login(logged, { password: "wrong-password-123" });
      await put(logged, "/tolerances-batch", record, bearer(token));
      await new Promise((r) => setTimeout(r, 50));
      expect(entries.map((e) => e.status)).toEqual([200, 401, 207]);
      const text = JSON.stringify(entries);
      for (const secret of [PASSWORD, "wrong-password-123", token])
        expect(text).not.toContain(secret);
    } finally {
      await logged.close();
    }
  });
});

describe("static-token mode and option checks", () => {
  it("answers the login with 401 when no users are configured, and keeps test-token", async () => {
    const server = await startMockServer({ rateLimit: false });
    try {
      const res = await login(server);
      expect(res.status).toBe(401);
      expect(res.json.detail).toMatch(/No users are configured/);
      expect((await put(server, "/tolerances-batch", record)).status).toBe(207);
    } finally {
      await server.close();
    }
  });

  it("refuses bad user options by field", async () => {
    const alice = users[0] as MockUser;
    await expect(startMockServer({ users, tokens: ["t"] })).rejects.toThrow(/login mode/);
    await expect(startMockServer({ users, validateToken: () => true })).rejects.toThrow(
      /login mode/,
    );
    await expect(startMockServer({ users: [{ ...alice, password: "" }] })).rejects.toThrow(
      /users\[0\]\.password/,
    );
    await expect(startMockServer({ users: [{ ...alice, username: "a:b" }] })).rejects.toThrow(
      /users\[0\]\.username/,
    );
    await expect(startMockServer({ users: [alice, alice] })).rejects.toThrow(/users\[1\]/);
    await expect(startMockServer({ users, tokenLifetimeMs: 0 })).rejects.toThrow(/tokenLifetimeMs/);
    await expect(
      startMockServer({ users, loginRateLimit: { requestsPerSecond: -1 } }),
    ).rejects.toThrow(RangeError);
  });
});
