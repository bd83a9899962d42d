// The login's TokenCache in a real Redis: round trip with expiry, hashed keys, a lock that only
// one process holds at a time, expires when its holder is killed, and is released by its owner only.

import { createHash, randomUUID } from "node:crypto";
import { type RedisServer, startRedisServer } from "@vbapi-sdk/tool-redis-harness";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRedisTokenCache, LockTimeoutError, type RedisTokenCache } from "../src/index.ts";
import { forkTs, sleep } from "./helpers.ts";

let server: RedisServer;
let admin: Redis;
const open: RedisTokenCache[] = [];

beforeAll(async () => {
  server = await startRedisServer();
  admin = new Redis(server.url);
});
afterAll(async () => {
  await Promise.all(open.map((c) => c.close()));
  await admin?.quit();
  await server?.stop();
});

function cache(options: Partial<Parameters<typeof createRedisTokenCache>[0]> = {}) {
  const c = createRedisTokenCache({ url: server.url, logger: { warn() {} }, ...options });
  open.push(c);
  return c;
}

const message = (child: ReturnType<typeof forkTs>, text: string) =>
  new Promise<number>((resolve) =>
    child.on("message", (m) => {
      if (m === text) resolve(performance.now());
    }),
  );

describe("createRedisTokenCache", () => {
  it("round-trips a token between connections, under a hashed key with a TTL at its expiry", async () => {
    const key = `alice@demo/${randomUUID()}`;
    const writer = cache({ keyPrefix: "tc:" });
    const reader = cache({ keyPrefix: "tc:" });
    const value = { token: "eyJ.secret.token", expiresAt: Date.now() + 60_000, lifetimeMs: 90_000 };
    expect(await reader.get(key)).toBeUndefined();
    await writer.set(key, value);
    const read = await reader.get(key);
    // The measured lifetime is kept; the expiry is what Redis's TTL says is left.
    expect(read).toMatchObject({ token: value.token, lifetimeMs: 90_000 });
    expect(Math.abs((read?.expiresAt ?? 0) - value.expiresAt)).toBeLessThan(1_000);
    const hash = createHash("sha256").update(key).digest("hex");
    expect(await admin.keys("tc:*")).toEqual([`tc:token:${hash}`]);
    const ttl = await admin.pttl(`tc:token:${hash}`);
    expect(ttl).toBeGreaterThan(59_000);
    expect(ttl).toBeLessThanOrEqual(60_000);
    await reader.delete(key);
    expect(await writer.get(key)).toBeUndefined();
  });

  it("processes whose clocks are hours apart agree on the expiry: it is Redis's TTL, not a timestamp", async () => {
    const key = randomUUID();
    const writer = cache();
    const reader = cache();
    // The writer's clock runs 3 hours behind the reader's: its epoch timestamps mean nothing here.
    const realNow = Date.now;
    Date.now = () => realNow() - 3 * 3_600_000;
    try {
      await writer.set(key, {
        token: "t-skewed",
        expiresAt: Date.now() + 30_000,
        lifetimeMs: 60_000,
      });
    } finally {
      Date.now = realNow;
    }
    const read = await reader.get(key);
    expect(read?.token).toBe("t-skewed");
    expect(read?.lifetimeMs).toBe(60_000);
    const left = (read?.expiresAt ?? 0) - Date.now();
    expect(left).toBeGreaterThan(29_000);
    expect(left).toBeLessThanOrEqual(30_000);
  });

  it("deleteToken removes only the token a 401 refused, never a newer one; a claimed expiry centuries away is kept at most 30 days", async () => {
    const key = randomUUID();
    const c = cache();
    await c.set(key, { token: "newer", expiresAt: Date.now() + 60_000 });
    await c.deleteToken(key, "refused-older");
    expect((await c.get(key))?.token).toBe("newer");
    await c.deleteToken(key, "newer");
    expect(await c.get(key)).toBeUndefined();
    const warnings: string[] = [];
    const quiet = cache({ logger: { warn: (m: string) => warnings.push(m) } });
    await quiet.set(key, { token: "far", expiresAt: 1e20 });
    expect((await quiet.get(key))?.token).toBe("far");
    const ttl = await admin.pttl(`vbapi:token:${createHash("sha256").update(key).digest("hex")}`);
    expect(ttl).toBeLessThanOrEqual(30 * 24 * 3_600_000);
    expect(warnings).toEqual([]);
  });

  it("an expired token is a miss (Redis drops it), and setting an already expired one drops the old", async () => {
    const key = randomUUID();
    const c = cache();
    await c.set(key, { token: "t1", expiresAt: Date.now() + 150 });
    expect((await c.get(key))?.token).toBe("t1");
    await sleep(200);
    expect(await c.get(key)).toBeUndefined();
    await c.set(key, { token: "t2", expiresAt: Date.now() + 60_000 });
    await c.set(key, { token: "t3", expiresAt: Date.now() - 1 });
    expect(await c.get(key)).toBeUndefined();
  });

  it("a damaged or foreign value under the key is a miss, not a crash; bad input is a clear error", async () => {
    const key = randomUUID();
    const c = cache();
    const k = `vbapi:token:${createHash("sha256").update(key).digest("hex")}`;
    await admin.set(k, "not json");
    expect(await c.get(key)).toBeUndefined();
    await admin.set(k, JSON.stringify({ token: 42, expiresAt: "soon" }));
    expect(await c.get(key)).toBeUndefined();
    await expect(c.set(key, { token: "", expiresAt: Date.now() + 1000 })).rejects.toThrow(
      /token: non-empty string/,
    );
    await expect(c.get("")).rejects.toThrow(/key must be a non-empty string/);
  });

  it("withLock: one holder at a time across connections, every caller runs", async () => {
    const key = randomUUID();
    const caches = Array.from({ length: 5 }, () => cache());
    let inside = 0;
    let most = 0;
    const order: number[] = [];
    await Promise.all(
      caches.map((c, i) =>
        c.withLock(key, 2000, async () => {
          inside++;
          most = Math.max(most, inside);
          await sleep(40);
          order.push(i);
          inside--;
        }),
      ),
    );
    expect(most).toBe(1);
    expect(order.sort()).toEqual([0, 1, 2, 3, 4]);
    // Released: nothing left behind.
    expect(await admin.exists(`vbapi:lock:${createHash("sha256").update(key).digest("hex")}`)).toBe(
      0,
    );
  });

  it("withLock is extended while a slow holder runs past its TTL", async () => {
    const key = randomUUID();
    const [a, b] = [cache(), cache()];
    let aDone = 0;
    let bIn = 0;
    // A TTL of 600 ms, extended every 200 ms, held for three TTLs: on a machine busy with the
    // whole suite an extension may come late, but not a whole TTL late. B asks once A is inside
    // (a fixed head start let B's connection, ready first on a busy machine, take the lock first).
    let entered: () => void = () => {};
    const aInside = new Promise<void>((resolve) => {
      entered = resolve;
    });
    const first = a.withLock(key, 600, async () => {
      entered();
      await sleep(1_800);
      aDone = performance.now();
    });
    await Promise.race([aInside, first]); // (first: A's own error, if it never got in)
    await b.withLock(key, 600, async () => {
      bIn = performance.now();
    });
    await first;
    expect(aDone).toBeGreaterThan(0);
    expect(bIn).toBeGreaterThanOrEqual(aDone);
  });

  it("a holder killed with -9 blocks the others only until its lock's TTL runs out", async () => {
    const key = randomUUID();
    const child = forkTs("test/fixtures/lock-holder.ts", [server.url, key, "400", "hang"]);
    try {
      await message(child, "locked");
      child.kill("SIGKILL");
      const killedAt = performance.now();
      await cache().withLock(key, 1000, async () => {});
      const waited = performance.now() - killedAt;
      expect(waited).toBeLessThan(400 + 300);
    } finally {
      child.kill("SIGKILL");
    }
  });

  it("a holder whose lock expired does not release the next holder's lock", async () => {
    const key = randomUUID();
    // The child takes the lock (TTL 200 ms) and then blocks its event loop for 700 ms, so it
    // cannot extend it: the lock expires and B takes it. The child then releases "its" lock.
    const child = forkTs("test/fixtures/lock-holder.ts", [server.url, key, "200", "700"]);
    try {
      const released = message(child, "released");
      await message(child, "locked");
      const [b, c] = [cache(), cache()];
      let bOut = 0;
      let cIn = 0;
      const bRun = b.withLock(key, 5000, async () => {
        await released; // B still holds the lock when the old holder releases
        await sleep(300);
        bOut = performance.now();
      });
      await released;
      await sleep(50);
      await c.withLock(key, 5000, async () => {
        cIn = performance.now();
      });
      await bRun;
      expect(cIn).toBeGreaterThanOrEqual(bOut);
    } finally {
      child.kill("SIGKILL");
    }
  });

  it("a cache closed while its holder runs (a process shutting down mid-login) releases the lock at once", async () => {
    const key = `closing/${randomUUID()}`;
    const a = createRedisTokenCache({ url: server.url, logger: { warn() {} } });
    const b = cache({ lockWaitMs: 5_000 });
    let entered!: () => void;
    const holding = new Promise<void>((resolve) => {
      entered = resolve;
    });
    // A's login holds the lock for 2 s; A's process closes its cache after it took the lock.
    const slow = a.withLock(key, 30_000, async () => {
      entered();
      await sleep(2_000);
    });
    await holding;
    await a.close();
    const started = performance.now();
    await b.withLock(key, 30_000, async () => undefined);
    // Before: B waited for A's lock until its 30 s TTL (here: LockTimeoutError at 5 s).
    expect(performance.now() - started).toBeLessThan(1_500);
    await slow.catch(() => undefined);
  });

  it("close() while a lock is being taken, or while its holder runs on a shared connection: no lock left, no late token", async () => {
    // The lock attempt still on the wire when close() starts.
    const key = `racing/${randomUUID()}`;
    const a = createRedisTokenCache({ url: server.url, logger: { warn() {} } });
    const ran: string[] = [];
    const attempt = a
      .withLock(key, 30_000, async () => {
        ran.push("a");
      })
      .then(
        () => "ran",
        (error: Error) => error.message,
      );
    await a.close();
    expect(await attempt).toMatch(/the cache was closed/);
    expect(ran).toEqual([]);
    const lockKey = `vbapi:lock:${createHash("sha256").update(key).digest("hex")}`;
    expect(await admin.exists(lockKey)).toBe(0);
    const b = cache({ lockWaitMs: 2_000 });
    const started = performance.now();
    await b.withLock(key, 30_000, async () => undefined);
    expect(performance.now() - started).toBeLessThan(1_000);

    // A caller's connection (close() does not end it): the holder's token, written after
    // close(), is not stored; another process may be writing its own.
    const shared = new Redis(server.url);
    try {
      const c = createRedisTokenCache({ redis: shared, logger: { warn() {} } });
      const tokenKey = `late/${randomUUID()}`;
      let entered!: () => void;
      const holding = new Promise<void>((resolve) => {
        entered = resolve;
      });
      const login = c.withLock(tokenKey, 30_000, async () => {
        entered();
        await sleep(300);
        await c.set(tokenKey, { token: "late-token", expiresAt: Date.now() + 60_000 });
      });
      await holding;
      await c.close();
      await login;
      expect(await cache().get(tokenKey)).toBeUndefined();
    } finally {
      shared.disconnect();
    }
  });

  it("withLock waits at most lockWaitMs for a live holder", async () => {
    const key = randomUUID();
    const holder = cache();
    const impatient = cache({ lockWaitMs: 200 });
    let release: () => void = () => {};
    let entered: () => void = () => {};
    const holding = new Promise<void>((resolve) => {
      entered = resolve;
    });
    const held = holder.withLock(
      key,
      5000,
      () =>
        new Promise<void>((resolve) => {
          release = resolve;
          entered();
        }),
    );
    // The holder really holds the lock (not just "20 ms later": a loaded machine is slower).
    await holding;
    await expect(impatient.withLock(key, 5000, async () => {})).rejects.toBeInstanceOf(
      LockTimeoutError,
    );
    release();
    await held;
  });

  it("Redis down: one warning, the cache acts as empty and withLock still runs its function", async () => {
    const own = await startRedisServer();
    const warnings: string[] = [];
    const c = createRedisTokenCache({
      url: own.url,
      commandTimeoutMs: 300,
      logger: { warn: (m) => warnings.push(m) },
    });
    try {
      await c.set("k", { token: "secret-token", expiresAt: Date.now() + 60_000 });
      await own.halt();
      expect(await c.get("k")).toBeUndefined();
      await c.set("k", { token: "secret-token-2", expiresAt: Date.now() + 60_000 });
      expect(await c.withLock("k", 1000, async () => "ran")).toBe("ran");
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatch(/Redis is unreachable/);
      expect(warnings[0]).not.toContain("secret-token");
    } finally {
      await c.close();
      await own.stop();
    }
  });
});
