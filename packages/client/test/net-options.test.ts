// The `dispatcher` option (issue 20): handed to `fetch` as `init.dispatcher` on every request of
// the client and of passwordLogin, against the reference server on loopback. (The real proxy
// run, with undici's EnvHttpProxyAgent and tinyproxy, is in the CLI's net-proxy.test.ts: the
// client does not depend on undici.)
import { type MockServer, startMockServer } from "@vbapi-sdk/mock-server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { passwordLogin } from "../src/auth/login.ts";
import { ConfigurationError } from "../src/base/errors.ts";
import { upsertAllTolerances } from "../src/bulk/index.ts";
import { createVbapiClient } from "../src/client/client.ts";

const USER = { username: "erin", password: "pw-SECRET", clientId: "c1", clientCode: "CC1" };
let server: MockServer;
beforeAll(async () => {
  server = await startMockServer({ rateLimit: false, users: [{ ...USER, database: "NETDB" }] });
});
afterAll(() => server.close());

describe("dispatcher", () => {
  it("must be an object (a Dispatcher), for the client and for passwordLogin", () => {
    for (const dispatcher of [5, "proxy", null, () => {}]) {
      expect(() => createVbapiClient({ dispatcher })).toThrow(
        new ConfigurationError(
          "createVbapiClient: dispatcher must be an undici Dispatcher (an object), e.g. new EnvHttpProxyAgent()",
        ),
      );
      expect(() => passwordLogin({ ...USER, database: "D", apiKey: "k", dispatcher })).toThrow(
        ConfigurationError,
      );
    }
  });

  it("is handed to fetch with every login and batch request", async () => {
    const dispatcher = { name: "a dispatcher" };
    const seen: { url: string; dispatcher: unknown }[] = [];
    // Records what fetch was given, then sends it as Node's fetch would (without the stand-in).
    const recording: typeof fetch = (input, init) => {
      const { dispatcher: given, ...rest } = (init ?? {}) as RequestInit & { dispatcher?: unknown };
      seen.push({ url: String(input), dispatcher: given });
      return fetch(input, rest);
    };
    const common = { baseUrl: server.url, apiKey: server.credentials.apiKey, database: "NETDB" };
    const client = createVbapiClient({
      ...common,
      fetch: recording,
      dispatcher,
      token: passwordLogin({ ...USER, ...common, fetch: recording, dispatcher }),
    });
    const records = Array.from({ length: 12 }, (_, i) => ({ tolerance_Key: i + 1, tolerance1: i }));
    const report = await upsertAllTolerances(client, records, { chunkSize: 5 });
    expect(report.totals.created).toBe(12);
    expect(seen.filter((s) => s.url.endsWith("/user-authentication"))).toHaveLength(1);
    expect(seen.filter((s) => s.url.endsWith("/tolerances-batch"))).toHaveLength(3);
    expect(seen.every((s) => s.dispatcher === dispatcher)).toBe(true);
  });

  it("without one, fetch gets no dispatcher key at all", async () => {
    const inits: RequestInit[] = [];
    const client = createVbapiClient({
      baseUrl: server.url,
      apiKey: server.credentials.apiKey,
      database: "NETDB",
      token: passwordLogin({
        ...USER,
        baseUrl: server.url,
        apiKey: server.credentials.apiKey,
        database: "NETDB",
        fetch: (input, init) => {
          inits.push(init ?? {});
          return fetch(input, init);
        },
      }),
      fetch: (input, init) => {
        inits.push(init ?? {});
        return fetch(input, init);
      },
    });
    await client.upsertBatch("Tolerance", [{ tolerance_Key: 99, tolerance1: 1 }]);
    expect(inits).toHaveLength(2);
    for (const init of inits) expect("dispatcher" in init).toBe(false);
  });
});
