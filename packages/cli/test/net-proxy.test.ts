// Proxies (issue 20): the built `vbapi` and the SDK through a real forward proxy on loopback
// (tinyproxy, started here), NO_PROXY, and a proxy that refuses (407) or is down: those fail
// fast, exit 2, naming the proxy without its credentials. Skipped with a line saying how to
// install tinyproxy when it is absent, unless VBAPI_REQUIRE_PROXY=1 (CI), where it fails.
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createVbapiClient, passwordLogin, upsertAll } from "@vbapi-sdk/client";
import { type MockServer, startMockServer } from "@vbapi-sdk/mock-server";
import { EnvHttpProxyAgent } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Result, tempDir, vbapi } from "./helpers.ts";
import { proxyTestsRun, startTinyproxy, type Tinyproxy } from "./proxy-harness.ts";
import { closedPort } from "./telemetry-setup.ts";

/**
 * How long the run's session took, by its own clock (summary.json): "at once" is the SDK's
 * promise, a Node start-up on a loaded machine is not.
 */
const sessionMs = (out: string): number =>
  (
    JSON.parse(readFileSync(join(out, "summary.json"), "utf8")) as {
      timings: { sessionMs: number };
    }
  ).timings.sessionMs;

const run = proxyTestsRun("the proxy tests (net-proxy.test.ts)");

const USER = { username: "dora", password: "pw-SECRET-1a2b", clientId: "cid-9", clientCode: "CC9" };
const PROXY_USER = { user: "proxyuser", password: "PROXYPW-SECRET" };

let server: MockServer;
/** In login mode (users), which takes no static token. */
let loginServer: MockServer;
let proxy: Tinyproxy;
let authProxy: Tinyproxy;
beforeAll(async () => {
  if (!run) return;
  server = await startMockServer({ rateLimit: false });
  loginServer = await startMockServer({
    rateLimit: false,
    users: [{ ...USER, database: "PROXYDB" }],
  });
  proxy = await startTinyproxy();
  authProxy = await startTinyproxy({ basicAuth: PROXY_USER });
});
afterAll(async () => {
  await Promise.all([proxy?.stop(), authProxy?.stop(), server?.close(), loginServer?.close()]);
});

let dbCount = 0;
function setup(rows: number) {
  const dir = tempDir();
  const file = join(dir, "t.csv");
  const body = Array.from({ length: rows }, (_, i) => `${i + 1},${i}`).join("\n");
  writeFileSync(file, `tolerance_Key,tolerance1\n${body}\n`);
  const database = `PX${++dbCount}`;
  const out = join(dir, "run");
  return {
    dir,
    out,
    database,
    args: ["upsert", "tolerances", file, "--database", database, "--rate-limit", "off"],
  };
}

const noProxyEnv = {
  HTTP_PROXY: undefined,
  HTTPS_PROXY: undefined,
  NO_PROXY: undefined,
  http_proxy: undefined,
  https_proxy: undefined,
  no_proxy: undefined,
};
const tokenEnv = () => ({
  ...noProxyEnv,
  VBAPI_API_KEY: server.credentials.apiKey,
  VBAPI_TOKEN: server.credentials.token,
  VBAPI_BASE_URL: server.url,
});

/** Everything the run printed or wrote: stdout, stderr and every file of the run folder. */
function everything(result: Result, dir: string): string {
  const files = readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => readFileSync(join(e.parentPath, e.name), "utf8"));
  return [result.stdout, result.stderr, ...files].join("\n");
}

const host = () => new URL(server.url).host;

describe.runIf(run)("through a real forward proxy (tinyproxy)", () => {
  it("HTTP_PROXY: a token run goes through the proxy and stores every row", async () => {
    const s = setup(120);
    const before = proxy.requests().length;
    const r = await vbapi([...s.args, "--out", s.out, "--quiet", "--chunk-size", "50"], {
      env: { ...tokenEnv(), HTTP_PROXY: proxy.url },
    });
    expect(r.code, r.stderr).toBe(0);
    expect(server.store.list(s.database, "Tolerance")).toHaveLength(120);
    // Every batch call went through the proxy (one CONNECT per connection: at least one).
    const seen = proxy.requests().slice(before);
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.every((line) => line.includes(host()))).toBe(true);
  });

  it("the login and the batch calls both go through the proxy (lower-case http_proxy)", async () => {
    const s = setup(10);
    const before = proxy.requests().length;
    const env = (httpProxy: string, cache: string) => ({
      ...noProxyEnv,
      http_proxy: httpProxy,
      VBAPI_API_KEY: loginServer.credentials.apiKey,
      VBAPI_TOKEN: undefined,
      VBAPI_USERNAME: USER.username,
      VBAPI_PASSWORD: USER.password,
      VBAPI_CLIENT_ID: USER.clientId,
      VBAPI_CLIENT_CODE: USER.clientCode,
      VBAPI_BASE_URL: loginServer.url,
      XDG_CACHE_HOME: join(s.dir, cache),
    });
    // Through a proxy that refuses: the login never reaches the server (no direct way round).
    const wrong = `http://${PROXY_USER.user}:WRONGPW-SECRET@127.0.0.1:${authProxy.port}`;
    const refused = await vbapi([...s.args, "--database", "PROXYDB", "--out", `${s.out}-0`], {
      env: env(wrong, "cache0"),
    });
    expect(refused.code, refused.stderr).toBe(2);
    expect(refused.stderr).toContain("the proxy refused the connection");
    expect(refused.stderr + refused.stdout).not.toMatch(/SECRET/);
    expect(loginServer.stats.logins.succeeded + loginServer.stats.logins.failed).toBe(0);
    const r = await vbapi([...s.args, "--database", "PROXYDB", "--out", s.out, "--quiet"], {
      env: {
        ...noProxyEnv,
        http_proxy: proxy.url,
        VBAPI_API_KEY: loginServer.credentials.apiKey,
        VBAPI_TOKEN: undefined,
        VBAPI_USERNAME: USER.username,
        VBAPI_PASSWORD: USER.password,
        VBAPI_CLIENT_ID: USER.clientId,
        VBAPI_CLIENT_CODE: USER.clientCode,
        VBAPI_BASE_URL: loginServer.url,
        XDG_CACHE_HOME: join(s.dir, "cache"),
      },
    });
    expect(r.code, r.stderr).toBe(0);
    expect(loginServer.stats.logins.succeeded).toBe(1);
    expect(loginServer.store.list("PROXYDB", "Tolerance")).toHaveLength(10);
    // The login and the batch calls share the tunnel (one CONNECT naming the server, or more).
    const seen = proxy.requests().slice(before);
    expect(seen.length).toBeGreaterThanOrEqual(1);
    expect(seen.every((line) => line.includes(new URL(loginServer.url).host))).toBe(true);
  });

  it("NO_PROXY naming the host: the proxy sees nothing", async () => {
    for (const noProxy of ["127.0.0.1", `localhost, 127.0.0.1:${new URL(server.url).port}`, "*"]) {
      const s = setup(5);
      const before = proxy.log();
      const r = await vbapi([...s.args, "--out", s.out, "--quiet"], {
        env: { ...tokenEnv(), HTTP_PROXY: proxy.url, NO_PROXY: noProxy },
      });
      expect(r.code, r.stderr).toBe(0);
      expect(server.store.list(s.database, "Tolerance")).toHaveLength(5);
      expect(proxy.log()).toBe(before);
    }
  });

  it("credentials in the proxy URL are used and never shown", async () => {
    const s = setup(20);
    const withCredentials = `http://${PROXY_USER.user}:${PROXY_USER.password}@127.0.0.1:${authProxy.port}`;
    const r = await vbapi([...s.args, "--out", s.out, "--json"], {
      env: { ...tokenEnv(), HTTP_PROXY: withCredentials },
    });
    expect(r.code, r.stderr).toBe(0);
    expect(server.store.list(s.database, "Tolerance")).toHaveLength(20);
    expect(everything(r, s.dir)).not.toContain("PROXYPW-SECRET");
  });

  it("a proxy that answers 407: exit 2 at once, naming the proxy without its credentials; resumable", async () => {
    const s = setup(30);
    const before = authProxy.requests().length;
    const wrong = `http://${PROXY_USER.user}:WRONGPW-SECRET@127.0.0.1:${authProxy.port}`;
    const r = await vbapi([...s.args, "--out", s.out], {
      env: { ...tokenEnv(), HTTP_PROXY: wrong, HTTPS_PROXY: wrong },
    });
    expect(r.code, r.stderr).toBe(2);
    expect(sessionMs(s.out)).toBeLessThan(5_000);
    // tinyproxy answers a CONNECT without valid credentials 401 (a plain request, 407).
    expect(r.stderr).toContain(
      `error: cannot reach VBA at ${host()} through the proxy http://127.0.0.1:${authProxy.port}/: the proxy refused the connection (HTTP 401 Unauthorized); check HTTPS_PROXY / HTTP_PROXY and NO_PROXY`,
    );
    // No retry storm: a request or two before the run stopped.
    expect(authProxy.requests().length - before).toBeLessThanOrEqual(2);
    const all = everything(r, s.dir);
    expect(all).not.toContain("WRONGPW-SECRET");
    expect(all).not.toContain("see the error's cause");
    expect(server.store.list(s.database, "Tolerance")).toHaveLength(0);
    expect(r.stderr).toContain("30 not done yet");
    expect(r.stderr).toContain(`resume with: vbapi resume ${s.out}`);
  });

  it("a proxy that is down: exit 2 at once, naming it", async () => {
    const s = setup(5);
    const port = await closedPort();
    const r = await vbapi([...s.args, "--out", s.out], {
      env: { ...tokenEnv(), HTTP_PROXY: `http://u:DOWNPW-SECRET@127.0.0.1:${port}` },
    });
    expect(r.code, r.stderr).toBe(2);
    expect(sessionMs(s.out)).toBeLessThan(5_000);
    expect(r.stderr).toContain(
      `error: cannot reach VBA at ${host()} through the proxy http://127.0.0.1:${port}/: the proxy refused the connection (ECONNREFUSED); check HTTPS_PROXY / HTTP_PROXY and NO_PROXY`,
    );
    expect(everything(r, s.dir)).not.toContain("DOWNPW-SECRET");
  });

  it("a proxy variable that is not a URL: exit 2 naming the variable, not its value", async () => {
    const s = setup(1);
    const r = await vbapi([...s.args, "--out", s.out], {
      env: { ...tokenEnv(), https_proxy: "not a url NOTURL-SECRET" },
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("https_proxy is not an http:// or https:// proxy URL");
    expect(r.stderr + r.stdout).not.toContain("NOTURL-SECRET");
  });

  it("the SDK: createVbapiClient({ dispatcher }) and passwordLogin({ dispatcher }) go through it", async () => {
    const before = proxy.requests().length;
    const dispatcher = new EnvHttpProxyAgent({ httpProxy: proxy.url, noProxy: "" });
    const client = createVbapiClient({
      baseUrl: loginServer.url,
      apiKey: loginServer.credentials.apiKey,
      database: "PROXYDB",
      dispatcher,
      token: passwordLogin({
        ...USER,
        apiKey: loginServer.credentials.apiKey,
        database: "PROXYDB",
        baseUrl: loginServer.url,
        dispatcher,
      }),
    });
    const records = Array.from({ length: 40 }, (_, i) => ({
      tolerance_Key: 1000 + i,
      tolerance1: i,
    }));
    const report = await upsertAll(client, "Tolerance", records, { chunkSize: 10 });
    expect(report.totals.created).toBe(40);
    const seen = proxy.requests().slice(before);
    expect(seen.length).toBeGreaterThanOrEqual(1);
    expect(seen.every((line) => line.includes(new URL(loginServer.url).host))).toBe(true);
    await dispatcher.close();
  });
});
