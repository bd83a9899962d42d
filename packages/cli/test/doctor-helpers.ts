// Shared by the doctor tests: distinctive secrets, the environment that holds them, a run of
// the built `vbapi doctor` that checks no secret reached its output, and the checklist's lines.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { type MockServer, type MockServerOptions, startMockServer } from "@vbapi-sdk/mock-server";
import { expect } from "vitest";
import { type Result, vbapi } from "./helpers.ts";

export const SECRET = {
  apiKey: "ak-Zq81Distinctive-ApiKey",
  token: "tok-Wv27Distinctive-Bearer",
  password: "pw-Kx93Distinctive-Secret",
  proxyPassword: "proxy-Pw55Distinctive",
};
export const USER = {
  username: "doc-alice",
  password: SECRET.password,
  clientId: "cid-7",
  clientCode: "ccode-7",
  database: "DOCDB",
};

/** A reference server with the distinctive API key and token, and one login user. */
export function startServer(options: MockServerOptions = {}): Promise<MockServer> {
  return startMockServer({
    rateLimit: false,
    apiKeys: [SECRET.apiKey],
    tokens: [SECRET.token],
    ...options,
  });
}

/** The environment of a run: nothing from this machine but PATH and HOME (no stray proxy). */
export function tokenEnv(server: { url: string }, more: Record<string, string> = {}) {
  return {
    VBAPI_API_KEY: SECRET.apiKey,
    VBAPI_TOKEN: SECRET.token,
    VBAPI_BASE_URL: server.url,
    VBAPI_DATABASE: USER.database,
    ...more,
  };
}

export function loginEnv(server: { url: string }, more: Record<string, string> = {}) {
  return {
    VBAPI_API_KEY: SECRET.apiKey,
    VBAPI_USERNAME: USER.username,
    VBAPI_PASSWORD: USER.password,
    VBAPI_CLIENT_ID: USER.clientId,
    VBAPI_CLIENT_CODE: USER.clientCode,
    VBAPI_BASE_URL: server.url,
    VBAPI_DATABASE: USER.database,
    ...more,
  };
}

const CLEAN = { PATH: process.env.PATH, HOME: process.env.HOME, NODE_OPTIONS: undefined };

/** `vbapi doctor ...args` with exactly `env` (plus PATH and HOME); asserts no secret was printed. */
export async function doctor(args: string[], env: Record<string, string>): Promise<Result> {
  const full: Record<string, string | undefined> = { ...CLEAN, ...env };
  // Nothing inherited (a proxy variable of this machine included): exactly `env`.
  for (const name of Object.keys(process.env)) if (!(name in full)) full[name] = undefined;
  const result = await vbapi(["doctor", ...args], { env: full });
  for (const secret of Object.values(SECRET)) {
    expect(result.stdout).not.toContain(secret);
    expect(result.stderr).not.toContain(secret);
  }
  return result;
}

/** The checklist line of check `id` (`[ok]   login: ...`), or undefined. */
export function line(stdout: string, id: string): string | undefined {
  return stdout.split("\n").find((l) => l.slice(7).startsWith(`${id}: `));
}

/** A loopback HTTP proxy that answers 407 to every request and every CONNECT. */
export async function refusingProxy(): Promise<{
  url: string;
  hits: () => number;
  close: () => Promise<void>;
}> {
  let hits = 0;
  const server: Server = createServer((_req, res) => {
    hits++;
    res.writeHead(407, { "proxy-authenticate": 'Basic realm="proxy"' }).end();
  });
  server.on("connect", (_req, socket) => {
    hits++;
    socket.end(
      'HTTP/1.1 407 Proxy Authentication Required\r\nproxy-authenticate: Basic realm="proxy"\r\ncontent-length: 0\r\n\r\n',
    );
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    hits: () => hits,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export { closedPort } from "./telemetry-setup.ts";
