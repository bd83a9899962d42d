import { type ChildProcess, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { passwordLogin } from "@vbapi-sdk/client";
import { startMockServer } from "@vbapi-sdk/mock-server";
import { describe, expect, it } from "vitest";
import { defaultCacheDir, FileTokenCache } from "../src/token-cache.ts";
import { tempDir } from "./helpers.ts";

/** "Taken over at once": well under the 3 s an unreadable fresh lock is waited on and the 60 s
 *  ttl (it took 1.02 s once, in CI, on a machine busy with the whole suite; 1 s was the bound). */
const AT_ONCE_MS = 2_500;

// Every test has a lock folder of its own: they run side by side (most of them wait on a lock).

describe.concurrent("FileTokenCache", () => {
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
    expect(inAt - killedAt).toBeLessThan(AT_ONCE_MS); // not after the 60 s ttl
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

describe.concurrent("FileTokenCache: a lock it cannot read as JSON (review finding G)", () => {
  const lockOf = (dir: string) =>
    join(dir, `${createHash("sha256").update("k").digest("hex").slice(0, 32)}.lock`);
  /** A lock file written by hand, `ageMs` old; how long withLock("k", 60 s) then takes to get in. */
  async function waitFor(content: string, ageMs: number): Promise<number> {
    const dir = join(tempDir(), "tokens");
    const cache = new FileTokenCache({ dir });
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    writeFileSync(lockOf(dir), content);
    const at = new Date(Date.now() - ageMs);
    utimesSync(lockOf(dir), at, at);
    const started = performance.now();
    expect(await cache.withLock("k", 60_000, async () => "in")).toBe("in");
    expect(readdirSync(dir).filter((f) => f.endsWith(".lock"))).toEqual([]);
    return performance.now() - started;
  }
  const deadPid = async () => {
    const child = spawn(process.execPath, ["-e", ""]);
    await new Promise((r) => child.on("exit", r));
    return child.pid as number;
  };

  it("a bare PID (the previous release's format) of a dead process is taken over at once", async () => {
    const pid = await deadPid();
    expect(await waitFor(String(pid), 0)).toBeLessThan(AT_ONCE_MS);
    expect(await waitFor(`${pid}\n`, 0)).toBeLessThan(AT_ONCE_MS);
  });

  it("a bare PID of a live process is respected until it ends", async () => {
    const dir = join(tempDir(), "tokens");
    const cache = new FileTokenCache({ dir });
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const live = spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"]);
    writeFileSync(lockOf(dir), String(live.pid));
    try {
      let inAt = 0;
      const waiting = cache.withLock("k", 60_000, async () => {
        inAt = performance.now();
      });
      await new Promise((r) => setTimeout(r, 600));
      expect(inAt).toBe(0);
      const killedAt = performance.now();
      live.kill("SIGKILL");
      await waiting;
      expect(inAt - killedAt).toBeLessThan(AT_ONCE_MS);
    } finally {
      live.kill("SIGKILL");
    }
  }, 15_000);

  it("an empty or garbage lock older than a few seconds is stale; a fresh one is waited on briefly", async () => {
    for (const content of ["", "\u0000\u0001garbage", "{", "null", "[]"]) {
      expect(await waitFor(content, 10_000), JSON.stringify(content)).toBeLessThan(AT_ONCE_MS);
    }
    const fresh = await waitFor("", 0);
    expect(fresh).toBeGreaterThan(2_000); // a lock being written is not taken over at once...
    expect(fresh).toBeLessThan(8_000); // ...nor after the 60 s ttl
  }, 30_000);
});

describe.concurrent("FileTokenCache: processes taking over a dead holder's lock together (review finding F)", () => {
  it("never hold it two at a time", async () => {
    const worker = `const { FileTokenCache } = await import(process.env.DIST);
const { appendFileSync } = await import("node:fs");
// Asleep until just before START, then spinning: the four start within a millisecond of each
// other without each burning a core for the whole wait.
const start = Number(process.env.START);
await new Promise((r) => setTimeout(r, start - Date.now() - 50));
while (Date.now() < start) {}
await new FileTokenCache({ dir: process.env.DIR }).withLock("k", 60000, async () => {
  appendFileSync(process.env.LOG, "+\\n");
  await new Promise((r) => setTimeout(r, 100));
  appendFileSync(process.env.LOG, "-\\n");
});`;
    const most: number[] = [];
    for (let round = 0; round < 4; round++) {
      const dir = join(tempDir(), "tokens");
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      const lock = join(dir, `${createHash("sha256").update("k").digest("hex").slice(0, 32)}.lock`);
      writeFileSync(lock, JSON.stringify({ host: hostname(), pid: 2 ** 22 + 1, id: "dead" }));
      const log = join(dir, "log");
      const env = { ...process.env, DIST, DIR: dir, LOG: log, START: String(Date.now() + 700) };
      await Promise.all(
        Array.from({ length: 4 }, () => {
          const child = spawn(process.execPath, ["--input-type=module", "-e", worker], {
            env,
            stdio: "inherit",
          });
          return new Promise((r) => child.on("exit", r));
        }),
      );
      let inside = 0;
      let max = 0;
      const marks = readFileSync(log, "utf8").trim().split("\n");
      for (const mark of marks) {
        inside += mark === "+" ? 1 : -1;
        max = Math.max(max, inside);
      }
      expect(marks).toHaveLength(8); // every process got the lock once
      most.push(max);
    }
    expect(most).toEqual([1, 1, 1, 1]);
  }, 30_000);
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
