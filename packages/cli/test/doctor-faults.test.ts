// `vbapi doctor` against the reference server made to fail each way: each planted fault is
// named by its own line, nothing secret is printed (doctor() checks every run), and hostile
// server text is escaped.
import { entityNames } from "@vbapi-sdk/client";
import type { MockServer } from "@vbapi-sdk/mock-server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  closedPort,
  doctor,
  line,
  loginEnv,
  refusingProxy,
  SECRET,
  startServer,
  tokenEnv,
  USER,
} from "./doctor-helpers.ts";
import { RAW_CONTROL, withoutNewLines } from "./helpers.ts";

let server: MockServer;
let login: MockServer;

beforeAll(async () => {
  server = await startServer();
  login = await startServer({ users: [USER], tokens: undefined, loginRateLimit: false });
});
afterAll(async () => {
  await server.close();
  await login.close();
});

describe("vbapi doctor names each planted fault", () => {
  it("a wrong API key: the login's line points at the API key", async () => {
    const r = await doctor([], loginEnv(login, { VBAPI_API_KEY: "not-the-key" }));
    expect(r.code).toBe(1);
    expect(line(r.stdout, "login")).toMatch(
      /^\[FAIL\] login: refused \(401\): "The x-api-key header is missing or invalid\."; VBA's answer points at the API key \(VBAPI_API_KEY\)/,
    );
    expect(line(r.stdout, "probe")).toBe("[skip] probe: not run: no token");
  });

  it("a wrong API key with VBAPI_TOKEN: every probe line points at the API key", async () => {
    const r = await doctor([], tokenEnv(server, { VBAPI_API_KEY: "not-the-key" }));
    expect(r.code).toBe(1);
    for (const entity of entityNames) {
      expect(line(r.stdout, `probe ${entity}`)).toMatch(
        /^\[FAIL\] probe \w+: PUT \S+ answered 401: .*points at the API key/,
      );
    }
  });

  it("a wrong token: the probe says 401 and points at the bearer token", async () => {
    const r = await doctor([], tokenEnv(server, { VBAPI_TOKEN: "expired-or-wrong" }));
    expect(r.code).toBe(1);
    expect(line(r.stdout, "probe Tolerance")).toMatch(
      /answered 401: "The bearer token is invalid or has expired\."; VBA's answer points at the bearer token/,
    );
  });

  it("an expired VBAPI_TOKEN (a JWT): the login line says when it expired, no PUT is sent", async () => {
    const part = (o: object) => Buffer.from(JSON.stringify(o)).toString("base64url");
    const expired = `${part({ alg: "HS256" })}.${part({ iat: 1_700_000_000, exp: 1_700_003_600 })}.sig`;
    const before = server.stats.requests;
    const r = await doctor([], tokenEnv(server, { VBAPI_TOKEN: expired }));
    expect(r.code).toBe(1);
    expect(line(r.stdout, "login")).toBe(
      "[FAIL] login: VBAPI_TOKEN is given and expired at 2023-11-14T23:13:20.000Z",
    );
    expect(line(r.stdout, "probe")).toBe("[skip] probe: not run: no token");
    expect(server.stats.requests - before).toBe(1); // the GET of the http check only
  });

  it("token claims in milliseconds are read as the SDK reads them; impossible ones do not crash", async () => {
    const part = (o: object) => Buffer.from(JSON.stringify(o)).toString("base64url");
    const jwt = (claims: object) => `${part({ alg: "HS256" })}.${part(claims)}.sig`;
    const now = Date.now();
    // exp an hour ago, in ms: expired (it was read as seconds, 58,902 years ahead, and passed).
    const expired = await doctor(
      [],
      tokenEnv(server, { VBAPI_TOKEN: jwt({ exp: now - 3_600_000 }) }),
    );
    expect(expired.code).toBe(1);
    expect(line(expired.stdout, "login")).toBe(
      `[FAIL] login: VBAPI_TOKEN is given and expired at ${new Date(now - 3_600_000).toISOString()}`,
    );
    // exp and iat in ms, an hour apart: a 1.0 h lifetime (was 1000.0 h).
    const hour = await doctor(
      ["--no-probe"],
      tokenEnv(server, { VBAPI_TOKEN: jwt({ iat: now, exp: now + 3_600_000 }) }),
    );
    expect(line(hour.stdout, "login")).toContain("lifetime 1.0 h (exp - iat)");
    // An exp past what a Date holds: a line, not "unexpected error" with exit 2.
    const odd = await doctor(["--no-probe"], tokenEnv(server, { VBAPI_TOKEN: jwt({ exp: 1e16 }) }));
    expect(odd.code).toBe(0);
    expect(line(odd.stdout, "login")).toContain("expires at an impossible time (no iat)");
  });

  it("a wrong password: the login's line points at the username or password", async () => {
    const r = await doctor([], loginEnv(login, { VBAPI_PASSWORD: `${SECRET.password}-typo` }));
    expect(r.code).toBe(1);
    expect(line(r.stdout, "login")).toMatch(
      /^\[FAIL\] login: refused \(401\): "The username or password is incorrect\."; VBA's answer points at the username or password/,
    );
    expect(r.stdout).toMatch(/confirmed +login-401-names-credential/);
  });

  it("a wrong client code: the login's line points at the client id and code", async () => {
    const r = await doctor([], loginEnv(login, { VBAPI_CLIENT_CODE: "other" }));
    expect(line(r.stdout, "login")).toContain(
      "points at the client id (VBAPI_CLIENT_ID), the client code (VBAPI_CLIENT_CODE)",
    );
  });

  it("an unknown database: the login's line points at the database", async () => {
    const r = await doctor(["--database", "NOSUCHDB"], loginEnv(login));
    expect(r.code).toBe(1);
    expect(line(r.stdout, "login")).toMatch(
      /^\[FAIL\] login: refused \(401\): "The user may not log in to the requested database\."; VBA's answer points at the database/,
    );
  });

  it("an unknown database with VBAPI_TOKEN: every probe line points at the database", async () => {
    const known = await startServer({ databases: [USER.database] });
    try {
      const r = await doctor(["--database", "NOSUCHDB"], tokenEnv(known));
      expect(r.code).toBe(1);
      for (const entity of entityNames) {
        expect(line(r.stdout, `probe ${entity}`)).toMatch(
          /^\[FAIL\] probe \w+: PUT \S+ answered 401: "The database named in vbasoftware-database does not exist\."; VBA's answer points at the database/,
        );
      }
      expect((await doctor([], tokenEnv(known))).code).toBe(0);
    } finally {
      await known.close();
    }
  });

  it("a skewed Date: the clock line says how far, and a load still passes (exit 0)", async () => {
    const skewed = await startServer({ clockOffsetMs: 2 * 3600_000 });
    try {
      const r = await doctor([], tokenEnv(skewed));
      expect(r.code, r.stdout).toBe(0);
      expect(line(r.stdout, "clock")).toMatch(
        /^\[warn\] clock: the server's clock is 2\.0 h ahead of this machine's/,
      );
      const inSync = await doctor(["--no-probe"], tokenEnv(server));
      expect(line(inSync.stdout, "clock")).toMatch(
        /^\[ok\] {3}clock: the server's clock is within \d s/,
      );
    } finally {
      await skewed.close();
    }
  });

  it("a proxy that refuses (407): the http line names the proxy, without its credentials", async () => {
    const proxy = await refusingProxy();
    try {
      const withCreds = proxy.url.replace("//", `//doc-proxy-user:${SECRET.proxyPassword}@`);
      const r = await doctor([], tokenEnv(server, { HTTP_PROXY: withCreds }));
      expect(r.code).toBe(1);
      expect(proxy.hits()).toBeGreaterThan(0);
      expect(line(r.stdout, "config")).toContain(`proxy ${proxy.url}/`);
      expect(line(r.stdout, "proxy connect")).toMatch(
        /^\[ok\] {3}proxy connect: through proxy http:\/\/127\.0\.0\.1:\d+\/: connected/,
      );
      expect(line(r.stdout, "http")).toMatch(
        /^\[FAIL\] http: GET http:\/\/127\.0\.0\.1:\d+\/ got no answer through proxy http:\/\/127\.0\.0\.1:\d+\/: the proxy refused the connection \(HTTP 407 Proxy Authentication Required\)/,
      );
      expect(r.stdout).not.toContain("doc-proxy-user");
    } finally {
      await proxy.close();
    }
  });

  it("a server that is down: the connect line says the connection was refused", async () => {
    const port = await closedPort();
    const r = await doctor([], tokenEnv({ url: `http://127.0.0.1:${port}` }));
    expect(r.code).toBe(1);
    expect(line(r.stdout, "connect")).toMatch(
      new RegExp(
        `^\\[FAIL\\] connect: cannot connect to 127\\.0\\.0\\.1:${port}: the connection was refused \\(ECONNREFUSED\\)`,
      ),
    );
    expect(line(r.stdout, "login")).toBe("[skip] login: not run: the server was not reached");
  });

  it("an unresolvable host: the dns line says so", async () => {
    const r = await doctor(
      ["--timeout-ms", "5000"],
      tokenEnv({ url: "http://no-such-host.invalid" }),
    );
    expect(r.code).toBe(1);
    expect(line(r.stdout, "dns")).toMatch(
      /^\[FAIL\] dns: no-such-host\.invalid: the host name cannot be resolved.*\((ENOTFOUND|EAI_AGAIN)\)/,
    );
  });

  it("hostile server text (controls, bidi, CR) in a 401 is escaped on the terminal and in JSON", async () => {
    const hostile = "bad\u001b[31mred\rover\u202egnp.exe\u0007";
    server.faults.add({ type: "status", status: 401, detail: hostile, count: 1 });
    const r = await doctor([], tokenEnv(server));
    expect(r.code).toBe(1);
    expect(RAW_CONTROL.test(withoutNewLines(r.stdout))).toBe(false);
    expect(line(r.stdout, "probe ArmorCodeExCode")).toContain(
      'answered 401: "bad\\x1b[31mred\\x0dover\\u202egnp.exe\\x07"',
    );
    server.faults.add({ type: "status", status: 401, detail: hostile, count: 1 });
    const json = await doctor(["--json"], tokenEnv(server));
    expect(RAW_CONTROL.test(withoutNewLines(json.stdout))).toBe(false);
    const report = JSON.parse(json.stdout) as { checks: Array<{ id: string; saw: string }> };
    expect(report.checks.find((c) => c.id === "probe ArmorCodeExCode")?.saw).toContain("\\x1b[31m");
  });

  it("a secret the server echoes back is blanked", async () => {
    server.faults.add({
      type: "status",
      status: 401,
      detail: `bad key ${SECRET.apiKey} and ${SECRET.token}`,
      count: 1,
    });
    const r = await doctor([], tokenEnv(server));
    expect(line(r.stdout, "probe ArmorCodeExCode")).toContain(
      'answered 401: "bad key *** and ***"',
    );
  });
});
