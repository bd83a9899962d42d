import { type ChildProcess, spawn } from "node:child_process";
import { readdirSync, readFileSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { passwordLogin } from "@vbapi-sdk/client";
import { startMockServer } from "@vbapi-sdk/mock-server";
import { describe, expect, it } from "vitest";
import { defaultCacheDir, FileTokenCache } from "../src/token-cache.ts";
import { tempDir } from "./helpers.ts";

describe("FileTokenCache", () => {
  it("lives in $XDG_CACHE_HOME/vbapi, else ~/.cache/vbapi", () => {
    expect(defaultCacheDir({ XDG_CACHE_HOME: "/x/cache" })).toBe("/x/cache/vbapi");
    expect(defaultCacheDir({ XDG_CACHE_HOME: "relative" })).toMatch(/\.cache\/vbapi$/);
    expect(defaultCacheDir({})).toMatch(/\.cache\/vbapi$/);
  });

  it("stores tokens 0600 in a 0700 folder, per key, and forgets expired ones", async () => {
    const dir = join(tempDir(), "tokens");
    const cache = new FileTokenCache({ dir });
    const expiresAt = Date.now() + 60_000;
    await cache.set("user@db", { token: "tok-1", expiresAt });
    await cache.set("other@db", { token: "tok-2", expiresAt });
    expect(await cache.get("user@db")).toEqual({ token: "tok-1", expiresAt });
    expect(await cache.get("other@db")).toEqual({ token: "tok-2", expiresAt });
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    const files = readdirSync(dir);
    expect(files).toHaveLength(2);
    for (const f of files) {
      expect(statSync(join(dir, f)).mode & 0o777).toBe(0o600);
      expect(f).not.toContain("user"); // the key is hashed
    }
    await cache.set("user@db", { token: "old", expiresAt: Date.now() - 1 });
    expect(await cache.get("user@db")).toBeUndefined();
    await cache.delete("other@db");
    expect(await cache.get("other@db")).toBeUndefined();
    await cache.delete("never-set");
    await expect(cache.set("k", { token: "", expiresAt } as never)).rejects.toThrow(TypeError);
  });

  it("keeps the expiry and lifetime the login measured, not the JWT's exp (a server clock 2 h behind)", async () => {
    const user = { username: "u1", password: "pw-file-cache", clientId: "c", clientCode: "k" };
    const server = await startMockServer({
      users: [{ ...user, database: "db" }],
      tokenLifetimeMs: 60_000,
      clockOffsetMs: -2 * 3_600_000,
    });
    try {
      const dir = join(tempDir(), "tokens");
      const options = {
        ...user,
        database: "db",
        apiKey: server.credentials.apiKey,
        baseUrl: server.url,
      };
      const before = Date.now();
      const token = await passwordLogin({ ...options, cache: new FileTokenCache({ dir }) })();
      const [file] = readdirSync(dir).filter((f) => f.endsWith(".json"));
      const stored = JSON.parse(readFileSync(join(dir, file as string), "utf8"));
      // By this machine's clock the JWT's exp is 2 hours past; the measured expiry is a minute on.
      expect(stored.lifetimeMs).toBe(60_000);
      expect(stored.expiresAt).toBeGreaterThanOrEqual(before + 60_000);
      expect(stored.expiresAt).toBeLessThanOrEqual(Date.now() + 60_000);
      // A second process takes it from the file instead of logging in again.
      const again = await passwordLogin({ ...options, cache: new FileTokenCache({ dir }) })();
      expect(again).toBe(token);
      expect(server.stats.logins.succeeded).toBe(1);
    } finally {
      await server.close();
    }
  });

  it("a torn or foreign file is a miss, not an error", async () => {
    const dir = join(tempDir(), "tokens");
    const cache = new FileTokenCache({ dir });
    await cache.set("k", { token: "t", expiresAt: Date.now() + 60_000 });
    const [name] = readdirSync(dir);
    writeFileSync(join(dir, name as string), '{"token":"t","expi');
    expect(await cache.get("k")).toBeUndefined();
    writeFileSync(join(dir, name as string), '{"token":42,"expiresAt":"soon"}');
    expect(await cache.get("k")).toBeUndefined();
  });

  it("withLock runs one holder at a time and takes over a stale lock", async () => {
    const dir = join(tempDir(), "tokens");
    const a = new FileTokenCache({ dir });
    const b = new FileTokenCache({ dir });
    const log: string[] = [];
    const hold = (name: string, cache: FileTokenCache) =>
      cache.withLock("k", 5_000, async () => {
        log.push(`${name} in`);
        await new Promise((r) => setTimeout(r, 50));
        log.push(`${name} out`);
        return name;
      });
    expect(await Promise.all([hold("a", a), hold("b", b)])).toEqual(["a", "b"]);
    expect(
      [log.slice(0, 2), log.slice(2)].map((l) => l[0]?.split(" ")[0] === l[1]?.split(" ")[0]),
    ).toEqual([true, true]);
    // A lock left by a dead holder, older than the ttl, is taken over.
    await a.withLock("k", 5_000, async () => {
      const lock = readdirSync(dir).find((f) => f.endsWith(".lock")) as string;
      const old = new Date(Date.now() - 60_000);
      utimesSync(join(dir, lock), old, old);
      expect(await b.withLock("k", 1_000, async () => "taken over")).toBe("taken over");
    });
    // The lock is released when fn throws.
    await expect(
      a.withLock("k", 1_000, async () => Promise.reject(new Error("boom"))),
    ).rejects.toThrow("boom");
    expect(await b.withLock("k", 1_000, async () => "free")).toBe("free");
  });

  it("a lock held by a live process is respected; killed (kill -9), it is taken over at once", async () => {
    const dir = join(tempDir(), "tokens");
    const holder = await holdLock(dir, "k");
    const cache = new FileTokenCache({ dir });
    let inAt = 0;
    const waiting = cache.withLock("k", 60_000, async () => {
      inAt = performance.now();
      return "mine";
    });
    await new Promise((r) => setTimeout(r, 600));
    expect(inAt).toBe(0); // the holder is alive: no way in
    const killedAt = performance.now();
    holder.kill("SIGKILL");
    expect(await waiting).toBe("mine");
    expect(inAt - killedAt).toBeLessThan(1_000); // not after the 60 s ttl
    expect(readdirSync(dir).filter((f) => f.endsWith(".lock"))).toEqual([]);
  }, 15_000);

  it("a process that exits (process.exit) while holding the lock removes its lock file", async () => {
    const dir = join(tempDir(), "tokens");
    const holder = await holdLock(dir, "k", "setTimeout(() => process.exit(2), 20);");
    const code = await new Promise((r) => holder.on("exit", r));
    expect(code).toBe(2);
    expect(readdirSync(dir).filter((f) => f.endsWith(".lock"))).toEqual([]);
  });

  it("a holder whose lock was taken over (past its ttl) leaves the new holder's lock alone", async () => {
    const dir = join(tempDir(), "tokens");
    const [a, b, c] = [1, 2, 3].map(() => new FileTokenCache({ dir })) as [
      FileTokenCache,
      FileTokenCache,
      FileTokenCache,
    ];
    let releaseB = () => {};
    let bIn = false;
    const bDone = new Promise<void>((resolve) => {
      releaseB = resolve;
    });
    let bRun: Promise<unknown> = Promise.resolve();
    await a.withLock("k", 60_000, async () => {
      const lock = readdirSync(dir).find((f) => f.endsWith(".lock")) as string;
      const old = new Date(Date.now() - 120_000);
      utimesSync(join(dir, lock), old, old);
      bRun = b.withLock("k", 60_000, async () => {
        bIn = true;
        await bDone;
      });
      while (!bIn) await new Promise((r) => setTimeout(r, 5));
    });
    let cIn = false;
    const cRun = c.withLock("k", 60_000, async () => {
      cIn = true;
    });
    await new Promise((r) => setTimeout(r, 300));
    expect(cIn).toBe(false); // a's release did not remove b's lock
    releaseB();
    await Promise.all([bRun, cRun]);
    expect(cIn).toBe(true);
  });
});

const DIST = fileURLToPath(new URL("../dist/index.mjs", import.meta.url));

/** A separate `node` process that takes the lock on `key` (the built FileTokenCache) and holds it. */
async function holdLock(dir: string, key: string, then = ""): Promise<ChildProcess> {
  const code = `const { FileTokenCache } = await import(process.env.DIST);
await new FileTokenCache({ dir: process.env.DIR }).withLock(${JSON.stringify(key)}, 60000, () => {
  console.log("locked"); ${then}
  return new Promise(() => setInterval(() => {}, 1000));
});`;
  const child = spawn(process.execPath, ["--input-type=module", "-e", code], {
    env: { ...process.env, DIST, DIR: dir },
    stdio: ["ignore", "pipe", "inherit"],
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout?.on("data", (d: Buffer) => d.toString().includes("locked") && resolve());
    child.on("exit", (c) => reject(new Error(`the lock holder exited (${c})`)));
  });
  return child;
}
