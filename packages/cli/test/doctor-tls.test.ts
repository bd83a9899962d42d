// The doctor's TLS check over a real loopback HTTPS server with a self-signed certificate
// (made with openssl at test time): an untrusted issuer is named, as probable TLS
// interception, with what to do; trusted through NODE_EXTRA_CA_CERTS, the same line passes.
// Behind a proxy that inspects TLS (CONNECT accepted, then the tunnel presents that
// certificate), the http line names the interception and NODE_EXTRA_CA_CERTS too.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { createServer as createHttpServer, type ServerResponse } from "node:http";
import { createServer, type Server } from "node:https";
import {
  type AddressInfo,
  createServer as createNetServer,
  type Server as NetServer,
} from "node:net";
import { join } from "node:path";
import { TLSSocket } from "node:tls";
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
let proxy: NetServer;
let proxyUrl: string;

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
    "subjectAltName=IP:127.0.0.1,DNS:vba.example.com",
    "-keyout",
    keyFile,
    "-out",
    caFile,
  ]);
  expect(made.status, made.stderr.toString()).toBe(0);
  const notFound = (_req: unknown, res: ServerResponse) => {
    res
      .writeHead(404, { "content-type": "application/problem+json" })
      .end('{"status":404,"title":"Not Found"}');
  };
  server = createServer({ key: readFileSync(keyFile), cert: readFileSync(caFile) }, notFound);
  // What answers inside the proxy's tunnel, once the proxy itself has done the TLS.
  const inner = createHttpServer(notFound);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  // A proxy that accepts CONNECT to any host, then answers inside the tunnel with `server`.
  const tunnelOptions = { isServer: true, key: readFileSync(keyFile), cert: readFileSync(caFile) };
  proxy = createNetServer((socket) => {
    socket.on("error", () => {});
    socket.once("data", (head) => {
      if (!head.toString().startsWith("CONNECT ")) return socket.end("HTTP/1.1 400 Bad\r\n\r\n");
      socket.write("HTTP/1.1 200 Connection established\r\n\r\n");
      const tls = new TLSSocket(socket, tunnelOptions);
      tls.on("error", () => {});
      inner.emit("connection", tls);
    });
  });
  await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
  proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
});
afterAll(() => {
  server?.close();
  proxy?.close();
});

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

  it("behind a proxy that inspects TLS: the http line names the interception and NODE_EXTRA_CA_CERTS", async () => {
    const behind = {
      ...env(),
      VBAPI_BASE_URL: "https://vba.example.com/vbasoftware",
      HTTPS_PROXY: proxyUrl,
    };
    const r = await doctor(["--no-probe", "--timeout-ms", "4000"], behind);
    expect(r.code).toBe(1);
    expect(line(r.stdout, "http")).toMatch(
      /^\[FAIL\] http: GET https:\/\/vba\.example\.com\/vbasoftware\/ got no answer through proxy http:\/\/127\.0\.0\.1:\d+: the certificate is not trusted .*: this looks like TLS interception by the proxy or a firewall/,
    );
    expect(r.stdout).toContain(
      "-> ask your network team for the intercepting CA certificate and set NODE_EXTRA_CA_CERTS=/path/to/ca.pem",
    );
    // With that CA trusted, the same proxy lets the doctor through.
    const trusted = await doctor(["--no-probe", "--timeout-ms", "4000"], {
      ...behind,
      NODE_EXTRA_CA_CERTS: caFile,
    });
    expect(line(trusted.stdout, "http")).toMatch(
      /^\[ok\] {3}http: GET \/ answered 404 through proxy/,
    );
  });
});
