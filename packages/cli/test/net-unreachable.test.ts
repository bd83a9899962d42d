// When VBA cannot be reached, say so at once (issue 20): the built `vbapi` against a mistyped
// host (`.invalid` resolves nowhere, RFC 6761), a closed loopback port and a server whose
// certificate is not trusted. Each stops within 15 s with exit 2, names the host and the
// failure in words, blames no row, and leaves the run to `vbapi resume`. The cases run side by
// side (each has its own port, server and folder): the connect timeout (10 s) and the mid-run
// outage (about 15 s) are the shipped limits, waited out at the same time.
import { execFileSync, spawn } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { createServer as createHttpsServer, type Server } from "node:https";
import { join } from "node:path";
import { startMockServer } from "@vbapi-sdk/mock-server";
import { closedPort } from "@vbapi-sdk/tool-test-bin";
import { afterAll, describe, expect, it } from "vitest";
import { type Result, readJson, start, tempDir, vbapi } from "./helpers.ts";
import { freePort } from "./proxy-harness.ts";
import { expectUnreachableStop, timed } from "./unreachable-stop.ts";

const SECRETS = {
  VBAPI_API_KEY: "KEY-SECRET-41",
  VBAPI_PASSWORD: "PASSWORD-SECRET-42",
  VBAPI_TOKEN: "TOKEN-SECRET-43",
};
const base = {
  HTTP_PROXY: undefined,
  HTTPS_PROXY: undefined,
  http_proxy: undefined,
  https_proxy: undefined,
  NO_PROXY: undefined,
  no_proxy: undefined,
  VBAPI_DATABASE: undefined,
  VBAPI_API_KEY: SECRETS.VBAPI_API_KEY,
};
const withToken = (baseUrl: string) => ({
  ...base,
  VBAPI_BASE_URL: baseUrl,
  VBAPI_TOKEN: SECRETS.VBAPI_TOKEN,
});
const withLogin = (baseUrl: string, cache: string) => ({
  ...base,
  VBAPI_BASE_URL: baseUrl,
  VBAPI_TOKEN: undefined,
  VBAPI_USERNAME: "someone",
  VBAPI_PASSWORD: SECRETS.VBAPI_PASSWORD,
  VBAPI_CLIENT_ID: "cid",
  VBAPI_CLIENT_CODE: "cc",
  XDG_CACHE_HOME: cache,
});

function setup(rows: number) {
  const dir = tempDir();
  const file = join(dir, "t.csv");
  const body = Array.from({ length: rows }, (_, i) => `${i + 1},${i}`).join("\n");
  writeFileSync(file, `tolerance_Key,tolerance1\n${body}\n`);
  const out = join(dir, "run");
  return {
    dir,
    out,
    args: [
      "upsert",
      "tolerances",
      file,
      "--database",
      "NETDB",
      "--rate-limit",
      "off",
      "--chunk-size",
      "10",
      "--out",
      out,
    ],
  };
}

/** The common promises (see unreachable-stop.ts), with at most `rows` rows read. */
function expectStopped(
  run: { ms: number; result: Result },
  s: { dir: string; out: string },
  rows: number,
  message: string,
) {
  expectUnreachableStop(run, s, message, SECRETS, rows);
}

describe.concurrent("a VBA that cannot be reached stops the run at once, exit 2", () => {
  it("a mistyped host, with a token; resume --base-url with the right one sends every row", async () => {
    const s = setup(25);
    const run = await timed(s.args, withToken("https://no-such-host.invalid/vbasoftware"));
    console.log(`mistyped host, token: ${run.ms.toFixed(0)} ms`);
    expectStopped(
      run,
      s,
      25,
      "cannot reach VBA at no-such-host.invalid: the host name cannot be resolved (ENOTFOUND); check VBAPI_BASE_URL / --base-url",
    );
    const runUrl = () => readJson<{ client: { baseUrl: string } }>(join(s.out, "run.json")).client;
    const mistyped = runUrl().baseUrl;
    const sessions = () =>
      readFileSync(join(s.out, "journal.ndjson"), "utf8")
        .split("\n")
        .filter((line) => line.startsWith('{"t":"s"')).length;
    expect(sessions()).toBe(1);
    // A base URL with a query (it may hold a secret) is refused before anything is sent or saved.
    const query = await vbapi(
      ["resume", s.out, "--base-url", "http://127.0.0.1:4010/?token=QUERY-S3CRET#f", "--quiet"],
      { env: withToken("https://no-such-host.invalid/vbasoftware") },
    );
    expect(query.code).toBe(2);
    // Refused as the flag it is, before the run folder is touched (no session is started).
    expect(query.stderr).toContain("--base-url / VBAPI_BASE_URL must not have a query or fragment");
    expect(sessions()).toBe(1);
    expect(query.stderr).not.toContain("QUERY-S3CRET");
    // A second wrong URL that nothing answers at is not saved either: the run keeps its own.
    const refused = await vbapi(
      ["resume", s.out, "--base-url", `http://127.0.0.1:${await closedPort()}`, "--quiet"],
      { env: withToken("https://no-such-host.invalid/vbasoftware") },
    );
    expect(refused.code, refused.stderr).toBe(2);
    expect(runUrl().baseUrl).toBe(mistyped);
    expect(readFileSync(join(s.out, "run.json"), "utf8")).not.toContain("QUERY-S3CRET");
    const server = await startMockServer({
      rateLimit: false,
      apiKeys: [SECRETS.VBAPI_API_KEY],
      tokens: [SECRETS.VBAPI_TOKEN],
    });
    try {
      const resumed = await vbapi(["resume", s.out, "--base-url", server.url, "--quiet"], {
        env: withToken("https://no-such-host.invalid/vbasoftware"),
      });
      expect(resumed.code, resumed.stderr).toBe(0);
      expect(server.store.list("NETDB", "Tolerance")).toHaveLength(25);
      // Answered there: the right URL is the run's now, in run.json (for a later resume) and
      // in the report.
      expect(runUrl().baseUrl).toBe(server.url);
      const page = readFileSync(join(s.out, "report.html"), "utf8");
      expect(page).toContain(new URL(server.url).host);
      expect(page).not.toContain("no-such-host.invalid");
    } finally {
      await server.close();
    }
  });

  it("a mistyped host, with the login variables", async () => {
    const s = setup(25);
    const run = await timed(
      s.args,
      withLogin("https://no-such-host.invalid/vbasoftware", join(s.dir, "cache")),
    );
    console.log(`mistyped host, login: ${run.ms.toFixed(0)} ms`);
    expectStopped(
      run,
      s,
      25,
      "cannot reach VBA at no-such-host.invalid: the host name cannot be resolved (ENOTFOUND); check VBAPI_BASE_URL / --base-url",
    );
  });

  it("a refused port; then, with the server up, resume sends every row", async () => {
    const port = await freePort();
    const s = setup(30);
    const baseUrl = `http://127.0.0.1:${port}`;
    const run = await timed(s.args, withToken(baseUrl));
    expectStopped(
      run,
      s,
      30,
      `cannot reach VBA at 127.0.0.1:${port}: the connection was refused (ECONNREFUSED); check VBAPI_BASE_URL / --base-url, and whether this network needs a proxy (HTTPS_PROXY)`,
    );
    const server = await startMockServer({
      port,
      rateLimit: false,
      apiKeys: [SECRETS.VBAPI_API_KEY],
      tokens: [SECRETS.VBAPI_TOKEN],
    });
    try {
      const resumed = await vbapi(["resume", s.out, "--quiet"], { env: withToken(baseUrl) });
      expect(resumed.code, resumed.stderr).toBe(0);
      expect(server.store.list("NETDB", "Tolerance")).toHaveLength(30);
      expect(readJson(join(s.out, "summary.json"))).toMatchObject({
        status: "complete",
        totals: { created: 30, failed: 0, pending: 0 },
      });
    } finally {
      await server.close();
    }
  });

  it("a refused port with the login variables: the login is not retried for a minute", async () => {
    const port = await freePort();
    const s = setup(5);
    const run = await timed(s.args, withLogin(`http://127.0.0.1:${port}`, join(s.dir, "cache")));
    // The login is tried once: the run's own time (summary.json, from the session's start, so
    // not the Node start a busy machine stretches: 5.6 s once beside the whole suite) is 50-120
    // ms; with the login's retries (the network not watched) it was 13-14 s.
    const summary = join(s.out, "summary.json");
    expect(existsSync(summary), run.result.stderr).toBe(true);
    const { timings } = readJson<{ timings: { sessionMs: number } }>(summary);
    expect(timings.sessionMs).toBeLessThan(8_000);
    expectStopped(
      run,
      s,
      5,
      `cannot reach VBA at 127.0.0.1:${port}: the connection was refused (ECONNREFUSED)`,
    );
  });
});

// A port whose listen backlog is full (a listener that never accepts, filled by python3: Node
// cannot listen without accepting): a connect there times out (undici's 10 s), like a firewall
// that drops packets. A blackhole address is not reliable on every machine; this is.
const python = ["/usr/bin/python3", "/usr/local/bin/python3"].find((p) => existsSync(p));
if (!python) {
  process.stderr.write(
    "SKIPPED the connect-timeout test (net-unreachable.test.ts): no python3 to hold a full listen backlog\n",
  );
}
const BLACKHOLE = `
import socket, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(0)
port = s.getsockname()[1]
held = []
for i in range(3):
    c = socket.socket(); c.setblocking(False)
    try: c.connect(("127.0.0.1", port))
    except BlockingIOError: pass
    held.append(c)
print(port, flush=True)
time.sleep(120)
`;

describe.runIf(python !== undefined).concurrent("a connection that times out", () => {
  it("stops within 15 s, exit 2, 'the connection timed out'", async () => {
    const holder = spawn(python as string, ["-c", BLACKHOLE], {
      stdio: ["ignore", "pipe", "ignore"],
    });
    try {
      const port = await new Promise<number>((resolve, reject) => {
        holder.stdout?.setEncoding("utf8").once("data", (d: string) => resolve(Number(d.trim())));
        holder.once("exit", () => reject(new Error("python3 exited")));
      });
      const s = setup(5);
      const run = await timed(s.args, withToken(`http://127.0.0.1:${port}`));
      console.log(`connect timeout: ${run.ms.toFixed(0)} ms`);
      expectStopped(
        run,
        s,
        5,
        `cannot reach VBA at 127.0.0.1:${port}: the connection timed out (UND_ERR_CONNECT_TIMEOUT)`,
      );
    } finally {
      holder.kill("SIGKILL");
    }
  }, 60_000);
});

// A server with a self-signed certificate (made by openssl: node:crypto cannot make one).
const openssl = ["/usr/bin/openssl", "/usr/local/bin/openssl"].find((p) => existsSync(p));
if (!openssl) {
  process.stderr.write(
    "SKIPPED the untrusted-certificate test (net-unreachable.test.ts): no openssl (apt-get install openssl)\n",
  );
}
let tlsServer: Server | undefined;
afterAll(() => {
  tlsServer?.closeAllConnections();
  tlsServer?.close();
});

describe.runIf(openssl !== undefined).concurrent("TLS", () => {
  it("a certificate that is not trusted: exit 2, 'not trusted', and how to add a company CA", async () => {
    const dir = tempDir();
    const key = join(dir, "key.pem");
    const cert = join(dir, "cert.pem");
    execFileSync(
      openssl as string,
      [
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        key,
        "-out",
        cert,
        "-days",
        "1",
        "-subj",
        "/CN=127.0.0.1",
        "-addext",
        "subjectAltName=IP:127.0.0.1",
      ],
      { stdio: "ignore" },
    );
    let hits = 0;
    tlsServer = createHttpsServer(
      { key: readFileSync(key), cert: readFileSync(cert) },
      (_req, res) => {
        hits++;
        res.end("{}");
      },
    );
    await new Promise<void>((resolve) => tlsServer?.listen(0, "127.0.0.1", resolve));
    const { port } = tlsServer.address() as { port: number };
    const s = setup(8);
    const run = await timed(s.args, withToken(`https://127.0.0.1:${port}`));
    expectStopped(
      run,
      s,
      8,
      `cannot reach VBA at 127.0.0.1:${port}: the certificate is not trusted (self-signed) (DEPTH_ZERO_SELF_SIGNED_CERT); if a company proxy inspects TLS, set NODE_EXTRA_CA_CERTS to its CA certificate (PEM)`,
    );
    expect(hits).toBe(0);
    // The README's recipe: NODE_EXTRA_CA_CERTS naming the CA makes the same server trusted.
    const trusted = setup(1);
    const again = await vbapi(trusted.args, {
      env: { ...withToken(`https://127.0.0.1:${port}`), NODE_EXTRA_CA_CERTS: cert },
    });
    expect(hits).toBeGreaterThan(0);
    expect(again.stderr).not.toContain("cannot reach VBA");
    expect(readJson(join(trusted.out, "summary.json")).status).not.toBe("unreachable");
  });
});

describe.concurrent("a VBA that goes away mid-run", () => {
  it("retries, then a resumable stop (exit 2) with the same words; resume finishes the run", async () => {
    const port = await freePort();
    const options = {
      port,
      rateLimit: false as const,
      apiKeys: [SECRETS.VBAPI_API_KEY],
      tokens: [SECRETS.VBAPI_TOKEN],
    };
    let server = await startMockServer(options);
    const s = setup(150);
    const args = s.args.map((a) => (a === "10" ? "1" : a)); // one row per request
    const baseUrl = `http://127.0.0.1:${port}`;
    const started = performance.now();
    const child = start([...args, "--concurrency", "1"], { env: withToken(baseUrl) });
    // Let VBA answer some rows, then take it away.
    while (server.store.list("NETDB", "Tolerance").length < 20) {
      await new Promise((r) => setTimeout(r, 10));
    }
    await server.close();
    const result = await child.done;
    const ms = performance.now() - started;
    console.log(`mid-run outage: stopped after ${ms.toFixed(0)} ms`);
    expect(result.code, result.stderr).toBe(2);
    // The client's retries (warnings with the words), then the stop.
    expect(result.stderr).toContain(
      `cannot reach 127.0.0.1:${port}: the connection was refused (ECONNREFUSED); retry 1/2`,
    );
    expect(result.stderr).toContain(
      `error: cannot reach VBA at 127.0.0.1:${port}: the connection was refused (ECONNREFUSED)`,
    );
    const summary = readJson<{ status: string; totals: Record<string, number> }>(
      join(s.out, "summary.json"),
    );
    expect(summary.status).toBe("unreachable");
    expect(summary.totals.failed).toBe(0);
    expect(summary.totals.pending).toBeGreaterThan(0);
    expect(result.stderr + result.stdout).not.toContain("see the error's cause");
    server = await startMockServer(options);
    try {
      const resumed = await vbapi(["resume", s.out, "--quiet"], { env: withToken(baseUrl) });
      expect(resumed.code, resumed.stderr).toBe(0);
      expect(server.store.list("NETDB", "Tolerance").length).toBeGreaterThanOrEqual(
        150 - (summary.totals.created ?? 0) - (summary.totals.updated ?? 0),
      );
      expect(readJson(join(s.out, "summary.json"))).toMatchObject({
        status: "complete",
        totals: { rows: 150, failed: 0, pending: 0 },
      });
    } finally {
      await server.close();
    }
  }, 90_000); // the SDK re-sends after VBA's first answer for about 15 s before it stops
});
