// passwordLogin's `signal`: an aborted login stops at once (during its backoff, during a hung
// request, or before it starts), makes no further attempt, settles with an AbortError carrying
// the caller's reason, and releases the cache's cross-process lock on the way out.
import { createServer, type Server, type Socket } from "node:net";
import { startMockServer } from "@vbapi-sdk/mock-server";
import { afterEach, describe, expect, it } from "vitest";
import { AbortError, ConfigurationError } from "../src/base/errors.ts";
import { memoryTokenCache, passwordLogin, type TokenCache } from "../src/index.ts";

const USER = {
  username: "alice",
  password: "pw-abort-SECRET-77",
  clientId: "c1",
  clientCode: "K1",
};
const closers: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return (server.address() as { port: number }).port;
}

/** A port nothing listens on (connections are refused). */
async function refusedPort(): Promise<number> {
  const probe = createServer();
  const port = await listen(probe);
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

/** A memory cache with a lock that records whether it is held (as a file or Redis lock would). */
function lockingCache() {
  const inner = memoryTokenCache();
  const state = { held: false, taken: 0 };
  const cache: TokenCache = {
    ...inner,
    async withLock(_key, _ttl, fn) {
      while (state.held) await new Promise((r) => setTimeout(r, 5));
      state.held = true;
      state.taken++;
      try {
        return await fn();
      } finally {
        state.held = false;
      }
    },
  };
  return { cache, state };
}

/** Counts the login's requests (real fetch underneath). */
function countingFetch() {
  const calls = { n: 0 };
  const fetchFn: typeof fetch = (input, init) => {
    calls.n++;
    return fetch(input, init);
  };
  return { calls, fetchFn };
}

const options = (port: number) => ({
  ...USER,
  database: "db",
  apiKey: "key-abort",
  baseUrl: `http://127.0.0.1:${port}`,
});

const until = async (check: () => boolean) => {
  while (!check()) await new Promise((r) => setTimeout(r, 5));
};

describe("passwordLogin with an abort signal", () => {
  it("an abort during the backoff settles at once with an AbortError, no further attempt, lock released", async () => {
    const port = await refusedPort();
    const { cache, state } = lockingCache();
    const { calls, fetchFn } = countingFetch();
    const controller = new AbortController();
    const login = passwordLogin({
      ...options(port),
      cache,
      fetch: fetchFn,
      maxRetries: 3,
      signal: controller.signal,
    });
    const outcome = login().catch((e: unknown) => e);
    await until(() => calls.n === 1);
    await new Promise((r) => setTimeout(r, 50)); // refused: now inside the 1 s backoff
    expect(state.held).toBe(true);
    const reason = new Error("the run stopped");
    const abortedAt = performance.now();
    controller.abort(reason);
    const error = await outcome;
    // Inside the 1 s backoff: not waited out (a loaded machine may take a few hundred ms).
    expect(performance.now() - abortedAt).toBeLessThan(800);
    expect(error).toBeInstanceOf(AbortError);
    expect((error as Error).cause).toBe(reason);
    expect((error as Error).message).toContain("POST /user-authentication");
    expect(String(error)).not.toContain(USER.password);
    expect(state.held).toBe(false);
    // Later calls fail at once, without a request; the backoff would have retried by now.
    await expect(login()).rejects.toBeInstanceOf(AbortError);
    await new Promise((r) => setTimeout(r, 1_300));
    expect(calls.n).toBe(1);
    expect(state.taken).toBe(1);
  });

  it("an abort during a hung login request stops it at once (not after timeoutMs)", async () => {
    const sockets: Socket[] = [];
    const hung = createServer((socket) => sockets.push(socket)); // accepts, never answers
    const port = await listen(hung);
    closers.push(async () => {
      for (const s of sockets) s.destroy();
      await new Promise((r) => hung.close(r));
    });
    const { cache, state } = lockingCache();
    const controller = new AbortController();
    const login = passwordLogin({ ...options(port), cache, signal: controller.signal });
    const outcome = login().catch((e: unknown) => e);
    await until(() => sockets.length === 1);
    const abortedAt = performance.now();
    controller.abort();
    const error = await outcome;
    // The hung login is not waited on (its timeout is 30 s).
    expect(performance.now() - abortedAt).toBeLessThan(5_000);
    expect(error).toBeInstanceOf(AbortError);
    expect(state.held).toBe(false);
  });

  it("an already aborted signal sends nothing; a live one does not get in the way", async () => {
    const server = await startMockServer({
      rateLimit: false,
      users: [{ ...USER, database: "db" }],
    });
    closers.push(() => server.close());
    const port = Number(new URL(server.url).port);
    const { cache, state } = lockingCache();
    const { calls, fetchFn } = countingFetch();
    const base = { ...options(port), apiKey: server.credentials.apiKey, cache, fetch: fetchFn };
    const aborted = passwordLogin({ ...base, signal: AbortSignal.abort() });
    await expect(aborted()).rejects.toBeInstanceOf(AbortError);
    expect(calls.n).toBe(0);
    expect(state.held).toBe(false);
    const controller = new AbortController();
    const live = passwordLogin({ ...base, signal: controller.signal });
    expect(await live()).toMatch(/^ey/);
    expect(calls.n).toBe(1);
    expect(server.stats.logins.succeeded).toBe(1);
  });

  it("a signal that is not an AbortSignal is a configuration error naming it", () => {
    expect(() => passwordLogin({ ...options(1), signal: "stop" as never })).toThrow(
      ConfigurationError,
    );
    expect(() => passwordLogin({ ...options(1), signal: {} as never })).toThrow(/signal/);
  });
});
