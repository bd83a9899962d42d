// The doctor's TLS check over a real loopback HTTPS server with a self-signed certificate
// (made with openssl at test time): an untrusted issuer is named, as probable TLS
// interception, with what to do; trusted through NODE_EXTRA_CA_CERTS, the same line passes.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { doctor, line, SECRET, USER } from "./doctor-helpers.ts";
import { tempDir } from "./helpers.ts";

const openssl = spawnSync("openssl", ["version"]).status === 0;
if (!openssl)
  process.stderr.write(
    "SKIPPED doctor TLS tests: openssl was not found (apt-get install openssl)\n",
  );

let server: Server;
let url: string;
let caFile: string;

beforeAll(async () => {
  if (!openssl) return;
  const dir = tempDir();
  caFile = join(dir, "cert.pem");
  const keyFile = join(dir, "key.pem");
  const made = spawnSync("openssl", [
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-days",
    "2",
    "-subj",
    "/CN=Doctor Test Interceptor/O=Hostile\u001b[31mCorp",
    "-addext",
    "subjectAltName=IP:127.0.0.1",
    "-keyout",
    keyFile,
    "-out",
    caFile,
  ]);
  expect(made.status, made.stderr.toString()).toBe(0);
  server = createServer({ key: readFileSync(keyFile), cert: readFileSync(caFile) }, (_req, res) => {
    res
      .writeHead(404, { "content-type": "application/problem+json" })
      .end('{"status":404,"title":"Not Found"}');
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => server?.close());

const env = () => ({
  VBAPI_API_KEY: SECRET.apiKey,
  VBAPI_TOKEN: SECRET.token,
  VBAPI_BASE_URL: url,
  VBAPI_DATABASE: USER.database,
});

describe.skipIf(!openssl)("vbapi doctor, TLS", () => {
  it("names an untrusted issuer as probable TLS interception, escaped", async () => {
    const r = await doctor(["--no-probe"], env());
    expect(r.code).toBe(1);
    expect(line(r.stdout, "tls")).toMatch(
      /^\[FAIL\] tls: certificate issued by CN=Doctor Test Interceptor, O=Hostile\\x1b\[31mCorp is not trusted \(DEPTH_ZERO_SELF_SIGNED_CERT\): this looks like TLS interception/,
    );
    expect(r.stdout).toContain(
      "-> ask your network team for the intercepting CA certificate and set NODE_EXTRA_CA_CERTS",
    );
    expect(line(r.stdout, "http")).toBe("[skip] http: not run: the server was not reached");
  });

  it("passes once the issuer is trusted (NODE_EXTRA_CA_CERTS)", async () => {
    const r = await doctor(["--no-probe"], { ...env(), NODE_EXTRA_CA_CERTS: caFile });
    expect(line(r.stdout, "tls")).toMatch(
      /^\[ok\] {3}tls: certificate issued by CN=Doctor Test Interceptor, .* trusted \(\d+ ms\)$/,
    );
    expect(line(r.stdout, "http")).toMatch(/^\[ok\] {3}http: GET \/ answered 404/);
  });
});
