// The login's TokenCache in Redis: every process sharing one Redis shares one ID token, and
// withLock() lets exactly one of them log in at a time.

import { randomUUID } from "node:crypto";
import {
  type Connection,
  type ConnectionOptions,
  connect,
  disconnect,
  hashKey,
  LuaScript,
  reasonOf,
  withTimeout,
} from "./connection.ts";
import type { RedisLogger, StoredToken, TokenCache } from "./types.ts";

export interface RedisTokenCacheOptions extends ConnectionOptions {
  /** Prefix of every Redis key. Default "vbapi:". */
  keyPrefix?: string;
  /** Gets one warning per outage (the cache then acts as empty and locks are skipped). Default: console. */
  logger?: RedisLogger;
  /** A Redis call that takes longer counts as an outage. Default 1000 ms. */
  commandTimeoutMs?: number;
  /** How long withLock() waits for a lock held by another live process before it throws LockTimeoutError. Default 30 000 ms. */
  lockWaitMs?: number;
}

export interface RedisTokenCache extends TokenCache {
  withLock<T>(key: string, ttlMs: number, fn: () => Promise<T>): Promise<T>;
  /** Deletes the cached token only if it is still `token` (atomically, in Redis). */
  deleteToken(key: string, token: string): Promise<void>;
  /** Closes the connection if this package opened it. */
  close(): Promise<void>;
}

/** withLock() waited lockWaitMs for another process's lock. */
export class LockTimeoutError extends Error {
  override name = "LockTimeoutError";
}

// Only the holder (its random token) may extend or release a lock: a holder that outlived its
// TTL never deletes the next holder's lock.
const RELEASE = new LuaScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`);
// Deletes a token only if it is still the one a 401 refused: a newer one another process stored
// meanwhile stays.
const DELETE_IF = new LuaScript(`
local v = redis.call('GET', KEYS[1])
if v and cjson.decode(v).token == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`);
/** No token is kept longer than this, whatever expiry it claims (Redis refuses huge TTLs). */
const MAX_TTL_MS = 30 * 24 * 60 * 60 * 1000;
const EXTEND = new LuaScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
`);

function isStoredToken(value: unknown): value is StoredToken {
  if (!value || typeof value !== "object") return false;
  const v = value as Record<string, unknown>;
  return (
    typeof v.token === "string" &&
    v.token.length > 0 &&
    typeof v.expiresAt === "number" &&
    Number.isFinite(v.expiresAt)
  );
}

/** The measured lifetime, when the value carries a usable one. */
function lifetimeOf(value: StoredToken): { lifetimeMs?: number } {
  const ms = value.lifetimeMs;
  return typeof ms === "number" && Number.isFinite(ms) && ms > 0 ? { lifetimeMs: ms } : {};
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

class RedisTokenStore implements RedisTokenCache {
  private readonly connection: Connection;
  private readonly prefix: string;
  private readonly logger: RedisLogger;
  private readonly timeoutMs: number;
  private readonly lockWaitMs: number;
  private down = false;
  /** The locks this process holds (key to owner and renewal timer), released by close(). */
  private readonly held = new Map<
    string,
    { owner: string; renew?: ReturnType<typeof setInterval> }
  >();
  /** Set by close(): no lock is taken and no token written after it. */
  private closed = false;
  /** Lock attempts on the wire: close() waits for them (each bounded by commandTimeoutMs). */
  private readonly attempts = new Set<Promise<unknown>>();

  constructor(options: RedisTokenCacheOptions) {
    this.prefix = options?.keyPrefix ?? "vbapi:";
    if (typeof this.prefix !== "string") {
      throw new TypeError("createRedisTokenCache: keyPrefix must be a string");
    }
    this.logger = options.logger ?? console;
    this.timeoutMs = options.commandTimeoutMs ?? 1000;
    this.lockWaitMs = options.lockWaitMs ?? 30_000;
    for (const [name, v] of [
      ["commandTimeoutMs", this.timeoutMs],
      ["lockWaitMs", this.lockWaitMs],
    ] as const) {
      if (!Number.isFinite(v) || v <= 0) {
        throw new RangeError(`createRedisTokenCache: ${name} must be a finite number > 0`);
      }
    }
    this.connection = connect(options, "createRedisTokenCache");
  }

  private tokenKey(key: string): string {
    return `${this.prefix}token:${hashKey(checkKey(key))}`;
  }

  private lockKey(key: string): string {
    return `${this.prefix}lock:${hashKey(checkKey(key))}`;
  }

  /** Runs one Redis call; on an outage warns once and returns `undefined` instead. */
  private async guard<T>(what: string, op: () => Promise<T>): Promise<T | undefined> {
    try {
      const result = await withTimeout(op(), this.timeoutMs);
      if (this.down) {
        this.down = false;
        this.logger.info?.(
          "@vbapi-sdk/redis: Redis answers again; the token cache is shared again",
        );
      }
      return result;
    } catch (error) {
      if (!this.down) {
        this.down = true;
        this.logger.warn(
          `@vbapi-sdk/redis: Redis is unreachable (${reasonOf(error)}) during token cache ${what}; ` +
            "until it answers, each process logs in on its own (the cache acts as empty, locks are skipped)",
        );
      }
      return undefined;
    }
  }

  /**
   * The token and its expiry on this process's clock: what is left of it is Redis's TTL, so
   * processes whose clocks disagree still agree on when it expires.
   */
  async get(key: string): Promise<StoredToken | undefined> {
    const k = this.tokenKey(key);
    const answer = await this.guard("get", () =>
      this.connection.client.multi().get(k).pttl(k).exec(),
    );
    const raw = answer?.[0]?.[1];
    const ttl = answer?.[1]?.[1];
    if (typeof raw !== "string" || typeof ttl !== "number" || ttl <= 0) return undefined;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch {
      return undefined; // not ours or damaged: a miss, so the caller logs in and overwrites it
    }
    if (!isStoredToken(value)) return undefined;
    return { token: value.token, expiresAt: Date.now() + ttl, ...lifetimeOf(value) };
  }

  /** Stores a token until its expiry (a TTL, so no clock but Redis's counts), with its measured lifetime. */
  async set(key: string, value: StoredToken): Promise<void> {
    if (!isStoredToken(value)) {
      throw new TypeError(
        "RedisTokenCache.set: value must be { token: non-empty string, expiresAt: epoch ms }",
      );
    }
    // A login that ends after close() (the process is shutting down) writes nothing: the lock
    // it held was released, and another process may be writing its own token.
    if (this.closed) return;
    const k = this.tokenKey(key);
    const ttl = Math.min(Math.ceil(value.expiresAt - Date.now()), MAX_TTL_MS);
    const json = JSON.stringify({
      token: value.token,
      expiresAt: value.expiresAt,
      ...lifetimeOf(value),
    });
    // An expired token is not worth keeping: drop any older one instead.
    await this.guard(
      "set",
      (): Promise<unknown> =>
        ttl > 0 ? this.connection.client.set(k, json, "PX", ttl) : this.connection.client.del(k),
    );
  }

  /** Deletes the cached token only if it is still `token` (atomically, in Redis). */
  async deleteToken(key: string, token: string): Promise<void> {
    const k = this.tokenKey(key);
    await this.guard("delete", () =>
      DELETE_IF.run(this.connection.client, [k], [token], this.timeoutMs),
    );
  }

  async delete(key: string): Promise<void> {
    const k = this.tokenKey(key);
    await this.guard("delete", () => this.connection.client.del(k));
  }

  async withLock<T>(key: string, ttlMs: number, fn: () => Promise<T>): Promise<T> {
    if (!Number.isFinite(ttlMs) || ttlMs < 10) {
      throw new RangeError("RedisTokenCache.withLock: ttlMs must be a finite number >= 10");
    }
    const k = this.lockKey(key);
    const owner = randomUUID();
    const ttl = Math.ceil(ttlMs);
    const client = this.connection.client;
    // close() waits for a lock being taken: it then finds it in `held` (or it was given back).
    const taking = this.takeLock(k, owner, ttl);
    this.attempts.add(taking);
    let taken: boolean;
    try {
      taken = await taking;
    } finally {
      this.attempts.delete(taking);
    }
    if (!taken) return fn(); // Redis is down: no lock to take
    // Extend the lock while fn runs, so a slow login keeps it; a killed holder stops extending,
    // and the lock expires ttlMs after its last extension.
    const renew = setInterval(
      () => void EXTEND.run(client, [k], [owner, ttl], this.timeoutMs).catch(() => {}),
      Math.max(5, Math.floor(ttl / 3)),
    );
    const entry = this.held.get(k);
    if (entry?.owner !== owner) {
      clearInterval(renew); // close() came first and gave the lock back
      throw closedError();
    }
    entry.renew = renew;
    try {
      return await fn();
    } finally {
      clearInterval(renew);
      if (this.held.get(k)?.owner === owner) this.held.delete(k);
      await RELEASE.run(client, [k], [owner], this.timeoutMs).catch(() => {
        // Unreachable now: the TTL frees it.
      });
    }
  }

  /** Takes the lock (true), or finds Redis down (false); waits at most lockWaitMs for it. */
  private async takeLock(k: string, owner: string, ttl: number): Promise<boolean> {
    const client = this.connection.client;
    const deadline = performance.now() + this.lockWaitMs;
    for (;;) {
      if (this.closed) throw closedError();
      const got = await this.guard("lock", () => client.set(k, owner, "PX", ttl, "NX"));
      if (got === undefined) {
        if (this.closed) throw closedError();
        return false;
      }
      if (got === "OK") {
        if (this.closed) {
          // Taken while close() ran: given back at once, not left for its TTL.
          await RELEASE.run(client, [k], [owner], this.timeoutMs).catch(() => {});
          throw closedError();
        }
        this.held.set(k, { owner });
        return true;
      }
      if (performance.now() >= deadline) {
        throw new LockTimeoutError(
          `RedisTokenCache.withLock: another process held the lock for more than ${this.lockWaitMs} ms`,
        );
      }
      await sleep(25 + Math.random() * 50);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    // A lock taken by an attempt still on the wire is given back by withLock itself (it sees
    // `closed`), before the connection goes.
    await Promise.allSettled([...this.attempts]);
    // A lock still held (a login under way) is released now, or the other processes would wait
    // for its TTL once the connection goes; the login's token is then not written (see set).
    const held = [...this.held].map(([k, { owner, renew }]) => {
      clearInterval(renew);
      return RELEASE.run(this.connection.client, [k], [owner], this.timeoutMs).catch(() => {});
    });
    this.held.clear();
    await Promise.all(held);
    await disconnect(this.connection);
  }
}

const closedError = () => new Error("RedisTokenCache.withLock: the cache was closed");

function checkKey(key: string): string {
  if (typeof key !== "string" || key.length === 0) {
    throw new TypeError("RedisTokenCache: key must be a non-empty string");
  }
  return key;
}

/**
 * A TokenCache (issue 13) in Redis: tokens live under `${keyPrefix}token:<sha256(key)>` with a TTL
 * that ends at the token's expiry, and withLock() is SET NX PX with a token-checked release.
 */
export function createRedisTokenCache(options: RedisTokenCacheOptions): RedisTokenCache {
  return new RedisTokenStore(options);
}
