// The login's cross-process lock, end to end with the built `vbapi` and the login variables:
// a fail-fast stop (VBA unreachable, exit 2) while the login is retrying leaves no lock behind,
// so the resume right after it does not stall on it; two runs started together log in once.
import { existsSync, readdirSync, writeFileSync } from "node:fs";
import { createServer, type Socket } from "node:net";
import { join } from "node:path";
import { startMockServer } from "@vbapi-sdk/mock-server";
import { describe, expect, it } from "vitest";
import { tolerancesCsv, upsertArgs } from "./e2e-setup.ts";
import { bin, start, tempDir, vbapi } from "./helpers.ts";

const USER = { username: "alice", password: "pw-lock-SECRET-9", clientId: "cid", clientCode: "cc" };

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const { port } = probe.address() as { port: number };
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

function loginEnv(port: number, cacheHome: string) {
  return {
    VBAPI_API_KEY: "test-api-key",
    VBAPI_TOKEN: undefined,
    VBAPI_USERNAME: USER.username,
    VBAPI_PASSWORD: USER.password,
    VBAPI_CLIENT_ID: USER.clientId,
    VBAPI_CLIENT_CODE: USER.clientCode,
    VBAPI_BASE_URL: `http://127.0.0.1:${port}`,
    VBAPI_DATABASE: undefined,
    XDG_CACHE_HOME: cacheHome,
  };
}

/** The lock files under the cache folder (none when the folder does not exist yet). */
function locks(cacheHome: string): string[] {
  if (!existsSync(cacheHome)) return [];
  return readdirSync(cacheHome, { recursive: true, encoding: "utf8" }).filter((f) =>
    f.endsWith(".lock"),
  );
}

function run(rows: number) {
  const dir = tempDir();
  const file = join(dir, "t.csv");
  writeFileSync(file, tolerancesCsv(rows));
  return { dir, file, out: join(dir, "run"), cacheHome: join(dir, "cache") };
}

describe("the login lock across vbapi runs", () => {
  it("a fail-fast stop leaves no lock: the resume with VBA back is not held up (r14)", async () => {
    const port = await freePort();
    const { file, out, cacheHome } = run(5);
    const env = loginEnv(port, cacheHome);
    const first = await vbapi(upsertArgs(file, "DB", out), { env });
    expect(first.code).toBe(2); // VBA unreachable: stopped at once, resumable
    expect(locks(cacheHome)).toEqual([]);
    expect(first.stderr).not.toContain(USER.password);
    const server = await startMockServer({
      port,
      rateLimit: false,
      users: [{ ...USER, database: "DB" }],
    });
    try {
      const startedAt = performance.now();
      const resumed = await vbapi(["resume", out], { env });
      const ms = performance.now() - startedAt;
      expect(resumed.code).toBe(0);
      expect(ms).toBeLessThan(10_000); // was 60 s: it waited for the stale lock to expire
      expect(server.store.list("DB", "Tolerance")).toHaveLength(5);
      expect(server.stats.logins.succeeded).toBe(1);
      expect(locks(cacheHome)).toEqual([]);
    } finally {
      await server.close();
    }
  }, 40_000);

  it("a run killed (SIGKILL) while logging in does not hold up the next run", async () => {
    // The login answers slowly, so the first run is killed while it holds the lock.
    const port = await freePort();
    const { file, out, cacheHome } = run(3);
    const env = loginEnv(port, cacheHome);
    // Accepts the login and never answers; its connections are destroyed at the end (a socket
    // holding the killed run's unread request would keep `close` waiting forever).
    const accepted: Socket[] = [];
    const hung = createServer((socket) => {
      accepted.push(socket);
    });
    await new Promise<void>((resolve) => hung.listen(port, "127.0.0.1", resolve));
    const first = start(upsertArgs(file, "DB", out), { env });
    while (locks(cacheHome).length === 0) await new Promise((r) => setTimeout(r, 20));
    first.child.kill("SIGKILL");
    await first.done;
    await new Promise((resolve) => {
      hung.close(resolve);
      for (const socket of accepted) socket.destroy();
    });
    expect(locks(cacheHome)).toHaveLength(1); // kill -9 leaves it behind
    const server = await startMockServer({
      port,
      rateLimit: false,
      users: [{ ...USER, database: "DB" }],
    });
    try {
      const again = run(3);
      const startedAt = performance.now();
      const second = await vbapi(upsertArgs(again.file, "DB", again.out), { env });
      expect(second.code).toBe(0);
      expect(performance.now() - startedAt).toBeLessThan(10_000);
      expect(server.stats.logins.succeeded).toBe(1);
    } finally {
      await server.close();
    }
  }, 40_000);

  it("runs started together log in once: a live holder's lock is respected", async () => {
    const server = await startMockServer({
      rateLimit: false,
      users: [{ ...USER, database: "DB" }],
    });
    try {
      const cacheHome = join(tempDir(), "cache");
      const env = loginEnv(Number(new URL(server.url).port), cacheHome);
      const runs = [run(2), run(2), run(2)];
      const results = await Promise.all(
        // Processes of their own (bin): runs in one worker would go one at a time.
        runs.map((r) => bin(upsertArgs(r.file, "DB", r.out), { env })),
      );
      expect(results.map((r) => r.code)).toEqual([0, 0, 0]);
      expect(server.stats.logins.succeeded).toBe(1);
      expect(locks(cacheHome)).toEqual([]);
    } finally {
      await server.close();
    }
  }, 40_000);
});
