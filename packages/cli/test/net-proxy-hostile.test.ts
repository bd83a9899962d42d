// Hostile proxies and a firewall, before VBA ever answered (issue 20, review findings 4 and 5):
// a proxy that accepts and never answers CONNECT, one that closes the socket on CONNECT, a TLS
// handshake cut off at the ClientHello. Each is a real TCP listener on loopback; the built
// `vbapi` stops within 15 s with exit 2, names the proxy (never its password) and the failure,
// blames no row and leaves the run to `vbapi resume`. And a base URL on a port fetch refuses.
// Each case has listeners of its own: they run side by side, the 10 s CONNECT limit waited once.
import { existsSync, writeFileSync } from "node:fs";
import { type AddressInfo, createServer, type Server, type Socket } from "node:net";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { type Result, tempDir } from "./helpers.ts";
import { expectUnreachableStop, timed as run } from "./unreachable-stop.ts";

const SECRETS = {
  VBAPI_API_KEY: "KEY-SECRET-51",
  VBAPI_PASSWORD: "PASSWORD-SECRET-52",
  VBAPI_TOKEN: "TOKEN-SECRET-53",
  PROXY_PASSWORD: "Pr0xyPassw0rd-54",
};
const TARGET = "https://vba.example.com/vbasoftware";
const base = {
  HTTP_PROXY: undefined,
  http_proxy: undefined,
  https_proxy: undefined,
  NO_PROXY: undefined,
  no_proxy: undefined,
  VBAPI_DATABASE: undefined,
  VBAPI_API_KEY: SECRETS.VBAPI_API_KEY,
  VBAPI_TOKEN: SECRETS.VBAPI_TOKEN,
};
const login = (cache: string) => ({
  VBAPI_TOKEN: undefined,
  VBAPI_USERNAME: "someone",
  VBAPI_PASSWORD: SECRETS.VBAPI_PASSWORD,
  VBAPI_CLIENT_ID: "cid",
  VBAPI_CLIENT_CODE: "cc",
  XDG_CACHE_HOME: cache,
});

const servers: Server[] = [];
const sockets: Socket[] = [];
afterAll(() => {
  for (const socket of sockets) socket.destroy();
  for (const server of servers) server.close();
});

/** A loopback TCP listener that runs `onData` on each connection's first bytes. */
async function listener(onData: (socket: Socket) => void): Promise<number> {
  const server = createServer((socket) => {
    sockets.push(socket);
    socket.on("error", () => {});
    socket.once("data", () => onData(socket));
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return (server.address() as AddressInfo).port;
}

function setup(rows: number) {
  const dir = tempDir();
  const file = join(dir, "t.csv");
  const body = Array.from({ length: rows }, (_, i) => `${i + 1},${i}`).join("\n");
  writeFileSync(file, `tolerance_Key,tolerance1\n${body}\n`);
  const out = join(dir, "run");
  const args = ["upsert", "tolerances", file, "--database", "HDB", "--rate-limit", "off"];
  return { dir, out, args: [...args, "--chunk-size", "10", "--out", out] };
}

const timed = (args: string[], env: Record<string, string | undefined>) =>
  run(args, { ...base, ...env });

/** Exit 2 within 15 s, the message, no row blamed, resumable, no secret (unreachable-stop.ts). */
function expectStopped(
  run: { ms: number; result: Result },
  s: { dir: string; out: string },
  message: string,
) {
  expectUnreachableStop(run, s, message, SECRETS);
}

// The proxy as set, without its credentials (a URL that had them is printed normalised).
const through = (proxy: string) => `cannot reach VBA at vba.example.com through the proxy ${proxy}`;
const CHECK = "check HTTPS_PROXY / HTTP_PROXY and NO_PROXY";

describe.concurrent("a proxy or firewall that fails before VBA answered stops the run, exit 2", () => {
  it("a proxy that never answers CONNECT, with a token and with the login variables", async () => {
    const port = await listener(() => {});
    const proxy = `http://user:${SECRETS.PROXY_PASSWORD}@127.0.0.1:${port}`;
    const message = `${through(`http://127.0.0.1:${port}/`)}: the proxy did not answer CONNECT in time (UND_ERR_HEADERS_TIMEOUT); ${CHECK}`;
    const [a, b] = [setup(15), setup(15)];
    const [token, withLogin] = await Promise.all([
      timed(a.args, { VBAPI_BASE_URL: TARGET, HTTPS_PROXY: proxy }),
      timed(b.args, { VBAPI_BASE_URL: TARGET, HTTPS_PROXY: proxy, ...login(b.dir) }),
    ]);
    console.log(`hung proxy: token ${token.ms.toFixed(0)} ms, login ${withLogin.ms.toFixed(0)} ms`);
    expectStopped(token, a, message);
    expectStopped(withLogin, b, message);
  }, 40_000);

  it("a proxy that closes the connection on CONNECT", async () => {
    const port = await listener((socket) => socket.destroy());
    const s = setup(15);
    const run = await timed(s.args, {
      VBAPI_BASE_URL: TARGET,
      HTTPS_PROXY: `http://127.0.0.1:${port}`,
    });
    console.log(`closing proxy: ${run.ms.toFixed(0)} ms`);
    expectStopped(
      run,
      s,
      `${through(`http://127.0.0.1:${port}`)}: the proxy closed the connection without answering CONNECT (UND_ERR_SOCKET); ${CHECK}`,
    );
  }, 40_000);

  it.each([
    ["closes", (socket: Socket) => socket.destroy()],
    ["resets", (socket: Socket) => socket.resetAndDestroy()],
  ])(
    "a TLS handshake cut off: a firewall that %s at the ClientHello",
    async (_, cut) => {
      const port = await listener(cut);
      const s = setup(15);
      const run = await timed(s.args, {
        VBAPI_BASE_URL: `https://127.0.0.1:${port}/vbasoftware`,
        HTTPS_PROXY: undefined,
      });
      console.log(`TLS cut off: ${run.ms.toFixed(0)} ms`);
      expectStopped(
        run,
        s,
        `cannot reach VBA at 127.0.0.1:${port}: the TLS handshake was cut off (ECONNRESET)`,
      );
      // A reset at the hello is a firewall, not an untrusted certificate: no CA advice.
      expect(run.result.stderr).toContain("a firewall may block this host");
      expect(run.result.stderr).not.toContain("NODE_EXTRA_CA_CERTS");
    },
    40_000,
  );
});

it.concurrent("a TLS handshake reset on a host NO_PROXY names (a proxy set for the rest): never sent, exit 2", async () => {
  const port = await listener((socket) => socket.resetAndDestroy());
  const s = setup(5);
  const run = await timed(s.args, {
    VBAPI_BASE_URL: `https://127.0.0.1:${port}/vbasoftware`,
    HTTPS_PROXY: "http://127.0.0.1:9",
    NO_PROXY: "127.0.0.1",
  });
  expectStopped(
    run,
    s,
    `cannot reach VBA at 127.0.0.1:${port}: the TLS handshake was cut off (ECONNRESET)`,
  );
}, 40_000);

it.concurrent("a base URL on a port fetch refuses: a usage error naming it, no run folder", async () => {
  const s = setup(5);
  const run = await timed(s.args, { VBAPI_BASE_URL: "http://127.0.0.1:1", HTTPS_PROXY: undefined });
  expect(run.result.code, run.result.stderr).toBe(2);
  expect(run.result.stderr).toContain(
    'vbapi: --base-url / VBAPI_BASE_URL http://127.0.0.1:1: fetch refuses port 1 (a "bad port" in the Fetch standard); use the port VBA listens on',
  );
  expect(existsSync(s.out)).toBe(false);
  const flag = await timed([...s.args, "--base-url", "https://vba.example.com:6000/x"], {});
  expect(flag.result.code, flag.result.stderr).toBe(2);
  expect(flag.result.stderr).toContain("fetch refuses port 6000");
});
