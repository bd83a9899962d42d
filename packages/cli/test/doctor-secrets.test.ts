// `vbapi doctor` against a server (or gateway) that echoes what it was sent: the ID token the
// doctor's own login received, the Basic value, the password (with `"` and `\`, in --json),
// the API key and the bearer token placed across the 200-character cut of a detail. Each run
// asserts the secret, its escaped forms and its first 8 characters appear nowhere in stdout
// or stderr: every secret is blanked before the text is cut or escaped.
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { doctor, line, loginEnv, tokenEnv } from "./doctor-helpers.ts";
import type { Result } from "./helpers.ts";

const LOGIN_TOKEN =
  "eyJhbGciOiJub25lIn0.eyJleHAiOjQxMDI0NDQ4MDAsImlhdCI6MTcwMDAwMDAwMH0.LoginIssuedSecretSig77";
const KEY = "ak-Hj42Echoed-ApiKey-Value";
const TOKEN = "tok-Rq18Echoed-Bearer-Value";
const PASSWORD = 'pw"Kx93\\Echoed-Password';
const USERNAME = "echo-alice";
const BASIC = Buffer.from(`${USERNAME}:${PASSWORD}`).toString("base64");
const b64 = (s: string) => Buffer.from(s).toString("base64");

/** How the server answers the next requests: the login's answer and the probe's detail. */
type Echo = (req: IncomingMessage) => {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
};
let loginEcho: Echo;
let probeEcho: Echo;

const problem = (detail: string) => ({ status: 401, body: { title: "Unauthorized", detail } });
const basicOf = (req: IncomingMessage) => (req.headers.authorization ?? "").slice(6);

let server: Server;
let url: string;
beforeAll(async () => {
  server = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
        res
          .writeHead(status, {
            "content-type": "application/problem+json",
            date: new Date().toUTCString(),
            ...headers,
          })
          .end(JSON.stringify(body));
      if (req.method === "GET") return json(404, { title: "Not Found" });
      const echo = (req.url === "/user-authentication" ? loginEcho : probeEcho)(req);
      json(echo.status, echo.body, echo.headers);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => server.close());

/** The forms of `secret` that must not be printed: raw, as JSON escapes it, and base64. */
function forms(secret: string): string[] {
  return [secret, JSON.stringify(secret).slice(1, -1), b64(secret)];
}

/** Neither output holds any form of any secret, nor its first 8 characters. */
function expectNone(r: Result, secrets: string[]) {
  for (const secret of secrets) {
    for (const form of forms(secret)) {
      for (const text of [r.stdout, r.stderr]) {
        expect(text).not.toContain(form.slice(0, 8));
      }
    }
  }
}

const env = () =>
  loginEnv({ url }, { VBAPI_API_KEY: KEY, VBAPI_USERNAME: USERNAME, VBAPI_PASSWORD: PASSWORD });
const ALL = [KEY, PASSWORD, BASIC, LOGIN_TOKEN, TOKEN];
const loggedIn: Echo = () => ({
  status: 200,
  body: { data: { authenticationResult: { idToken: LOGIN_TOKEN, expiresIn: 3600 } } },
});

describe("vbapi doctor never prints a secret the server echoes", () => {
  it("the ID token its own login received, quoted back by the probe", async () => {
    loginEcho = loggedIn;
    probeEcho = (req) =>
      problem(`token ${(req.headers.authorization ?? "").slice(7)} is not valid here`);
    for (const args of [[], ["--json"]]) {
      const r = await doctor(args, env());
      expect(r.code).toBe(1);
      expectNone(r, ALL);
      expect(r.stdout).toContain("token *** is not valid here");
    }
  });

  it("the ID token quoted in a header the doctor prints (Retry-After of a 429)", async () => {
    loginEcho = loggedIn;
    probeEcho = (req) => ({
      status: 429,
      body: { title: "Too Many Requests" },
      headers: { "retry-after": `later, ${req.headers.authorization}` },
    });
    const r = await doctor([], env());
    expectNone(r, ALL);
    expect(line(r.stdout, "probe Tolerance")).toContain("(429, Retry-After: later, Bearer ***)");
  });

  it("the Basic value, as the whole header and as base64 alone", async () => {
    loginEcho = (req) => problem(`rejected authorization ${req.headers.authorization}`);
    let r = await doctor([], env());
    expectNone(r, ALL);
    expect(line(r.stdout, "login")).toMatch(
      /^\[FAIL\] login: refused \(401\): "rejected authorization Basic \*\*\*"/,
    );
    loginEcho = (req) => problem(`credentials ${basicOf(req)} refused`);
    r = await doctor([], env());
    expectNone(r, ALL);
    expect(line(r.stdout, "login")).toMatch(/"credentials \*\*\* refused"/);
  });

  it('a password with " and \\ quoted back, in --json and as text', async () => {
    loginEcho = (req) =>
      problem(`bad password for ${Buffer.from(basicOf(req), "base64").toString()}`);
    for (const args of [["--json"], []]) {
      const r = await doctor(args, env());
      expect(r.code).toBe(1);
      expectNone(r, ALL);
      expect(r.stdout).toContain("bad password for ***");
    }
  });

  it("the API key and the bearer token across the 200-character cut of a detail", async () => {
    for (const at of [190, 195, 199]) {
      loginEcho = (req) => problem(`${"x".repeat(at)}${req.headers["x-api-key"]} refused`);
      let r = await doctor([], env());
      expectNone(r, ALL);
      expect(line(r.stdout, "login")).toMatch(/x{150,}[* refusd]*…"/);
      probeEcho = (req) =>
        problem(`${"y".repeat(at)}${(req.headers.authorization ?? "").slice(7)} refused`);
      r = await doctor(["--json"], tokenEnv({ url }, { VBAPI_API_KEY: KEY, VBAPI_TOKEN: TOKEN }));
      expectNone(r, ALL);
      expect(r.stdout).toMatch(/y{150,}[* refusd]*…\\"/);
    }
  });

  it("a base64 form of the API key, and any Bearer/Basic credential, even one it was not sent", async () => {
    loginEcho = () =>
      problem(`key ${b64(KEY)} used; Authorization: Bearer someone-elses-token-9 or BASIC abc:def`);
    const r = await doctor(["--json"], env());
    expectNone(r, ALL);
    expect(r.stdout).not.toContain("someone-elses-token-9");
    expect(r.stdout).not.toContain("abc:def");
    expect(r.stdout).toContain("key *** used; Authorization: Bearer *** or BASIC ***");
  });

  it("the client code, and the API key upper-cased", async () => {
    const clientCode = "ZQXW-ClientCode-55x";
    loginEcho = () => problem(`cc=${clientCode} KEY=${KEY.toUpperCase()} refused`);
    const r = await doctor(["--json"], { ...env(), VBAPI_CLIENT_CODE: clientCode });
    expectNone(r, [...ALL, clientCode, KEY.toUpperCase()]);
    expect(r.stdout).toContain("cc=*** KEY=*** refused");
  });

  it("proxy credentials, URL-encoded in the variable and decoded in the text", async () => {
    const proxyPassword = "p@ss/Prx61Distinctive";
    const written = encodeURIComponent(proxyPassword);
    loginEcho = () => problem(`the proxy said ${proxyPassword} and ${written}`);
    const r = await doctor(["--json"], {
      ...env(),
      HTTPS_PROXY: `http://prx-user:${written}@127.0.0.1:9`,
      NO_PROXY: "127.0.0.1",
    });
    expectNone(r, [...ALL, proxyPassword, written]);
    expect(r.stdout).toContain("the proxy said *** and ***");
  });
});

describe("vbapi doctor never prints a secret encoded, escaped or split (review finding E)", () => {
  const key = "ak+Zq81/Distinctive=ApiKey";
  const password = "pw@Kx93 Distinct/ive&";
  const pwOf = (req: IncomingMessage) =>
    Buffer.from(basicOf(req), "base64").toString().split(":").slice(1).join(":");
  const keyOf = (req: IncomingMessage) => String(req.headers["x-api-key"] ?? "");
  const formEncoded = (s: string) => new URLSearchParams({ s }).toString().slice(2);
  const escaped = (s: string) =>
    [...s].map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`).join("");
  const encodedEnv = () =>
    loginEnv({ url }, { VBAPI_API_KEY: key, VBAPI_USERNAME: "alice", VBAPI_PASSWORD: password });
  /** Every form in the output would show at least one of these. */
  const needles = [
    ...[key, password].flatMap((s) => [
      ...forms(s),
      encodeURIComponent(s),
      formEncoded(s),
      escaped(s),
    ]),
    "Distinct",
  ].map((s) => s.slice(0, 8));

  async function expectBlanked(detail: string, title = "Unauthorized") {
    loginEcho = () => ({ status: 401, body: { title, detail } });
    for (const args of [[], ["--json"]]) {
      const r = await doctor(args, encodedEnv());
      expect(r.code).toBe(1);
      for (const needle of needles) expect(r.stdout + r.stderr).not.toContain(needle);
      if (args.length === 0) expect(line(r.stdout, "login")).toContain("***");
      else expect(r.stdout).toContain("***");
    }
  }

  it("percent-encoded in a URL a gateway echoes (encodeURIComponent)", async () => {
    await expectBlanked(
      `denied https://gw.example/login?apikey=${encodeURIComponent(key)}&password=${encodeURIComponent(password)}`,
    );
  });

  it("form-encoded (+ for a space)", async () => {
    await expectBlanked(`denied apikey=${formEncoded(key)}&password=${formEncoded(password)}`);
  });

  it("as literal \\uXXXX escapes", async () => {
    await expectBlanked(`quoted ${escaped(key)} and ${escaped(password)}`);
  });

  it("split across the title and the detail, each part 8 characters or more", async () => {
    await expectBlanked(
      `rest ${key.slice(12)} | pw ${password.slice(0, 8)} ${password.slice(8)}`,
      `key ${key.slice(0, 12)}`,
    );
  });

  it("ordinary words are kept: only runs that are part of a secret are blanked", async () => {
    loginEcho = (req) => problem(`Unauthorized request, the key ${keyOf(req)} pw ${pwOf(req)}`);
    const r = await doctor([], encodedEnv());
    expect(line(r.stdout, "login")).toContain("Unauthorized request, the key *** pw ***");
  });
});
