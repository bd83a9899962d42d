// The doctor against peers that misbehave: one that accepts the connection and never answers
// (bounded by --timeout-ms), answers of 0 bytes and of megabytes (read up to a cap), and a
// login answer that says 200 but holds no token.
import { createServer as createHttpServer } from "node:http";
import type { AddressInfo } from "node:net";
import { createServer, type Server, type Socket } from "node:net";
import type { MockServer } from "@vbapi-sdk/mock-server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { doctor, line, loginEnv, startServer, tokenEnv } from "./doctor-helpers.ts";

let server: MockServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server.close());

async function listen(s: Server | ReturnType<typeof createHttpServer>): Promise<string> {
  await new Promise<void>((resolve) => s.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
}

describe("vbapi doctor against misbehaving peers", () => {
  it("a peer that never answers: the http line says so within --timeout-ms", async () => {
    const sockets: Socket[] = [];
    const hung = createServer((socket) => sockets.push(socket));
    const url = await listen(hung);
    try {
      const started = Date.now();
      const r = await doctor(["--timeout-ms", "700"], tokenEnv({ url }));
      expect(Date.now() - started).toBeLessThan(8_000);
      expect(r.code).toBe(1);
      expect(line(r.stdout, "connect")).toMatch(/^\[ok\]/);
      expect(line(r.stdout, "http")).toMatch(
        /^\[FAIL\] http: GET http:\/\/127\.0\.0\.1:\d+\/ got no answer: no answer in time \(\d+ ms\)$/,
      );
    } finally {
      for (const s of sockets) s.destroy();
      hung.close();
    }
  });

  it("an empty 401 and a 401 of megabytes: each named, the big one read only up to the cap", async () => {
    server.faults.add({ type: "status", status: 401, detail: "", count: 1 });
    server.faults.add({
      type: "status",
      status: 401,
      detail: `${"x".repeat(8 * 1024 * 1024)}`,
      count: 1,
    });
    const r = await doctor([], tokenEnv(server));
    expect(r.code).toBe(1);
    // The empty detail gives the title; the huge body is cut, so it is not JSON and has no detail.
    expect(line(r.stdout, "probe ArmorCodeExCode")).toBe(
      `[FAIL] probe ArmorCodeExCode: PUT /armor-code-ex-codes-batch answered 401: "Unauthorized" (${/\((\d+) ms\)$/.exec(line(r.stdout, "probe ArmorCodeExCode") ?? "")?.[1]} ms)`,
    );
    expect(line(r.stdout, "probe ClaimPromptPay")).toMatch(
      /^\[FAIL\] probe ClaimPromptPay: PUT \/claim-prompt-pays-batch answered 401 \(\d+ ms\)$/,
    );
    expect(r.stdout.length).toBeLessThan(10_000);
    expect(line(r.stdout, "probe Event")).toMatch(/^\[ok\]/);
  });

  it("a login answered 200 without a token fails the login, naming what is missing", async () => {
    const fake = createHttpServer((req, res) => {
      req.resume();
      if (req.url === "/user-authentication")
        res.writeHead(200, { "content-type": "application/json" }).end('{"data":{}}');
      else res.writeHead(404).end();
    });
    const url = await listen(fake);
    try {
      const r = await doctor([], loginEnv({ url }));
      expect(r.code).toBe(1);
      expect(line(r.stdout, "login")).toMatch(
        /^\[FAIL\] login: POST \/user-authentication answered 200 without data\.authenticationResult\.idToken/,
      );
      expect(r.stdout).toMatch(/contradicted +login-expires-in/);
    } finally {
      fake.close();
    }
  });
});
