// One retry budget per failure (issue 20): a host that cannot be resolved, a refused port or a
// login that cannot connect is retried by whoever meets it first, never again by the layers
// above (the token source, the bulk engine's per-record re-sends). Real fetches: `.invalid`
// resolves nowhere (RFC 6761), a closed loopback port refuses; a counting fetch sees each try.
import { describe, expect, it } from "vitest";
import { passwordLogin } from "../src/auth/login.ts";
import { ConnectionError, TokenProviderError } from "../src/base/errors.ts";
import { upsertAllTolerances } from "../src/bulk/index.ts";
import { createVbapiClient } from "../src/client/client.ts";
import { closedPort } from "./helpers.ts";

const MISTYPED = "http://no-such-host.invalid/vbasoftware";

function countingFetch() {
  const urls: string[] = [];
  const fetchFn: typeof fetch = (input, init) => {
    urls.push(String(input));
    return fetch(input, init);
  };
  return { fetch: fetchFn, urls };
}

const tolerances = (n: number) =>
  Array.from({ length: n }, (_, i) => ({ tolerance_Key: i + 1, tolerance1: i }));
const fastBackoff = { initialDelayMs: 10, maxDelayMs: 20 };

describe("one retry budget per failure", () => {
  it("a mistyped host with a token: maxRetries + 1 tries in all, no record re-sent, none blamed", async () => {
    const counted = countingFetch();
    const client = createVbapiClient({
      baseUrl: MISTYPED,
      apiKey: "k",
      token: "t",
      database: "DB",
      fetch: counted.fetch,
      maxRetries: 2,
      backoff: fastBackoff,
      logger: { debug() {}, info() {}, warn() {}, error() {} },
    });
    const report = await upsertAllTolerances(client, tolerances(7), {
      chunkSize: 3,
      concurrency: 1,
      recordRetryDelayMs: 0,
    });
    // Before: 3 tries per chunk, then each record re-queued once: 3 more per chunk, 3 chunks.
    expect(counted.urls).toHaveLength(3);
    expect(report.totals.notAttempted).toBe(7);
    expect(report.totals.failed).toBe(0);
    expect(report.items.every((i) => !i.mayHaveBeenApplied)).toBe(true);
    expect(report.items[0]?.message).toContain(
      "cannot reach no-such-host.invalid: the host name cannot be resolved (ENOTFOUND)",
    );
  });

  it("a login that cannot connect: the login's own tries only, the transport does not ask again", async () => {
    const port = await closedPort();
    const baseUrl = `http://127.0.0.1:${port}/vbasoftware`;
    const login = countingFetch();
    const batch = countingFetch();
    const token = passwordLogin({
      username: "u",
      password: "PASSWORD-SECRET",
      clientId: "c",
      clientCode: "cc",
      database: "DB",
      apiKey: "KEY-SECRET",
      baseUrl,
      fetch: login.fetch,
      maxRetries: 1,
    });
    const client = createVbapiClient({
      baseUrl,
      apiKey: "KEY-SECRET",
      token,
      database: "DB",
      fetch: batch.fetch,
      maxRetries: 2,
      backoff: fastBackoff,
      logger: { debug() {}, info() {}, warn() {}, error() {} },
    });
    const error = await client.upsertBatch("Tolerance", tolerances(2)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TokenProviderError);
    const failure = error as TokenProviderError;
    expect(failure.retried).toBe(true);
    expect(failure.cause).toBeInstanceOf(ConnectionError);
    expect((failure.cause as ConnectionError).code).toBe("ECONNREFUSED");
    // Before: the transport asked the provider maxRetries + 1 = 3 times (each a login, or the
    // login's stored failure), and the message said "see the error's cause".
    expect(login.urls).toHaveLength(2);
    expect(batch.urls).toHaveLength(0);
    expect(failure.message).toBe(
      `the token provider failed: POST /user-authentication: cannot reach 127.0.0.1:${port}: the connection was refused (ECONNREFUSED) after 2 attempts`,
    );
    expect(JSON.stringify(failure) + String(failure.stack)).not.toMatch(/SECRET/);
  });

  it("upsertAll with a login that cannot connect: one login budget, every record not attempted", async () => {
    const login = countingFetch();
    const token = passwordLogin({
      username: "u",
      password: "p",
      clientId: "c",
      clientCode: "cc",
      database: "DB",
      apiKey: "k",
      baseUrl: MISTYPED,
      fetch: login.fetch,
      maxRetries: 1,
    });
    const client = createVbapiClient({
      baseUrl: MISTYPED,
      apiKey: "k",
      token,
      database: "DB",
      maxRetries: 2,
      backoff: fastBackoff,
      logger: { debug() {}, info() {}, warn() {}, error() {} },
    });
    const report = await upsertAllTolerances(client, tolerances(6), {
      chunkSize: 2,
      concurrency: 1,
      recordRetryDelayMs: 0,
    });
    expect(login.urls).toHaveLength(2);
    expect(report.totals.notAttempted).toBe(6);
    expect(report.items[0]?.message).toContain(
      "cannot reach no-such-host.invalid: the host name cannot be resolved (ENOTFOUND)",
    );
    expect(report.items[0]?.message).not.toContain("see the error's cause");
  });
});
