// `vbapi doctor` against the reference server when everything is right: every check passes
// (with a token, and with the login variables), --json carries the same verdicts, --no-probe
// sends no PUT, and the probe writes nothing.
import { entityNames } from "@vbapi-sdk/client";
import type { MockServer, RequestLogEntry } from "@vbapi-sdk/mock-server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { doctor, line, loginEnv, startServer, tokenEnv, USER } from "./doctor-helpers.ts";
import type { Result } from "./helpers.ts";

let server: MockServer;
const requests: RequestLogEntry[] = [];

beforeAll(async () => {
  server = await startServer({ log: (entry) => requests.push(entry) });
});
afterAll(() => server.close());

/**
 * `vbapi doctor` with VBAPI_TOKEN and no flag, and the requests it sent: run once, for the tests
 * that read it (the file's tests run one after another, so `sent` is this run's alone).
 */
let plain: Promise<{ r: Result; sent: RequestLogEntry[] }> | undefined;
const plainRun = () => {
  plain ??= (async () => {
    const from = requests.length;
    const r = await doctor([], tokenEnv(server));
    return { r, sent: requests.slice(from) };
  })();
  return plain;
};

const LOAD_CHECKS = [
  "config",
  "dns",
  "connect",
  "http",
  "clock",
  "login",
  ...entityNames.map((e) => `probe ${e}`),
];

describe("vbapi doctor, all good", () => {
  it("passes every check with VBAPI_TOKEN, exit 0, and writes nothing", async () => {
    const { r } = await plainRun();
    expect(r.code, r.stdout + r.stderr).toBe(0);
    for (const id of LOAD_CHECKS) expect(line(r.stdout, id), id).toMatch(/^\[ok\] {3}/);
    expect(line(r.stdout, "tls")).toMatch(/^\[skip\] tls: plain http/);
    expect(line(r.stdout, "login")).toContain("VBAPI_TOKEN is given");
    expect(line(r.stdout, "probe ProviderCredService")).toContain(
      "PUT /provider-credentialing/0/services-batch refused the malformed body (400)",
    );
    expect(r.stdout).toContain("Everything a load needs passed.");
    expect(r.stdout).not.toContain("[FAIL]");
    // Names of the variables set, never their values.
    expect(line(r.stdout, "config")).toContain(
      "variables set: VBAPI_API_KEY, VBAPI_TOKEN, VBAPI_BASE_URL, VBAPI_DATABASE",
    );
    for (const entity of entityNames) expect(server.store.list(USER.database, entity)).toEqual([]);
  });

  it("logs in with the login variables and names the token's lifetime", async () => {
    const users = await startServer({ users: [USER], tokens: undefined });
    try {
      const r = await doctor([], loginEnv(users));
      expect(r.code, r.stdout).toBe(0);
      expect(line(r.stdout, "login")).toMatch(
        /^\[ok\] {3}login: logged in; ID token lifetime 24\.0 h \(exp - iat\) \(\d+ ms\)$/,
      );
      for (const id of LOAD_CHECKS) expect(line(r.stdout, id), id).toMatch(/^\[ok\]/);
      expect(r.stdout).toMatch(/confirmed +login-expires-in/);
      expect(users.stats.logins.succeeded).toBe(1);
    } finally {
      await users.close();
    }
  });

  it("--json parses and has the same verdicts as the checklist", async () => {
    const { r: text } = await plainRun();
    const json = await doctor(["--json"], tokenEnv(server));
    expect(json.code).toBe(0);
    const report = JSON.parse(json.stdout) as {
      ok: boolean;
      checks: Array<{ id: string; verdict: string; ms?: number }>;
      assumed: Array<{ id: string; verdict: string }>;
    };
    expect(report.ok).toBe(true);
    const mark = { pass: "[ok]", warn: "[warn]", fail: "[FAIL]", skip: "[skip]" } as const;
    expect(report.checks.map((c) => c.id)).toEqual(
      text.stdout
        .split("\n")
        .filter((l) => /^\[/.test(l))
        .map((l) => l.slice(7).split(": ")[0]),
    );
    for (const check of report.checks) {
      expect(
        line(text.stdout, check.id)?.startsWith(mark[check.verdict as keyof typeof mark]),
        check.id,
      ).toBe(true);
    }
    expect(report.checks.find((c) => c.id === "connect")?.ms).toBeTypeOf("number");
    expect(report.assumed.find((f) => f.id === "error-content-type")?.verdict).toBe("confirmed");
  });

  it("--no-probe sends no PUT", async () => {
    // Without the flag, one PUT per entity.
    const { sent } = await plainRun();
    expect(sent.filter((q) => q.method === "PUT")).toHaveLength(entityNames.length);
    const from = requests.length;
    const r = await doctor(["--no-probe"], tokenEnv(server));
    expect(r.code).toBe(0);
    expect(line(r.stdout, "probe")).toBe("[skip] probe: not run: --no-probe");
    const noProbe = requests.slice(from);
    expect(noProbe.length).toBeGreaterThan(0);
    expect(noProbe.filter((q) => q.method === "PUT")).toEqual([]);
  });

  it("a usage error exits 2", async () => {
    const r = await doctor(["--timeout-ms", "0"], tokenEnv(server));
    expect(r.code).toBe(2);
    // Past the longest timer (a longer one fires at once: a healthy server read as timed out).
    const huge = await doctor(["--timeout-ms", "3000000000"], tokenEnv(server));
    expect(huge.code).toBe(2);
    expect(huge.stderr).toContain("--timeout-ms must be a whole number from 1 to 2147483647");
    const bad = await doctor([], tokenEnv(server, { VBAPI_BASE_URL: "ftp://x" }));
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--base-url must be http(s)");
  });

  it("says what is missing from the configuration, by name", async () => {
    const r = await doctor([], { VBAPI_BASE_URL: server.url, VBAPI_USERNAME: USER.username });
    expect(r.code).toBe(1);
    expect(line(r.stdout, "config")).toMatch(
      /^\[FAIL\] config: .*missing: VBAPI_API_KEY; VBAPI_PASSWORD, VBAPI_CLIENT_ID, VBAPI_CLIENT_CODE \(the login variables are incomplete; or set VBAPI_TOKEN\); --database <name> or VBAPI_DATABASE/,
    );
    expect(line(r.stdout, "login")).toBe("[skip] login: not run: the configuration is incomplete");
  });
});
