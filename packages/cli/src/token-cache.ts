// The CLI's token cache: one 0600 file per key in the user's cache directory
// ($XDG_CACHE_HOME/vbapi, else ~/.cache/vbapi), written atomically (temp file + rename).
// It implements the client's TokenCache interface (issue 13) structurally: the login token
// provider stores VBA's idToken here so a second `vbapi` run does not log in again.
// The key is hashed for the file name; the file holds only { token, expiresAt, lifetimeMs }:
// the expiry and lifetime the login measured (not a re-read of the JWT's exp).
import { createHash, randomBytes, randomUUID } from "node:crypto";
import { promises as fs, readFileSync, rmSync } from "node:fs";
import { homedir, hostname } from "node:os";
import { join } from "node:path";
import { io } from "./io.ts";
import {
  createLockFile,
  processAlive,
  readLockFile,
  removeStaleLockFile,
  UNREADABLE_STALE_MS,
} from "./lock-file.ts";

export interface CachedToken {
  token: string;
  /** Epoch milliseconds, as the login measured it. */
  expiresAt: number;
  /** The token's lifetime as the login measured it (exp - iat), when known. */
  lifetimeMs?: number;
}

/** The measured lifetime, when the value carries a usable one. */
function lifetimeOf(value: CachedToken): { lifetimeMs?: number } {
  const ms = value.lifetimeMs;
  return typeof ms === "number" && Number.isFinite(ms) && ms > 0 ? { lifetimeMs: ms } : {};
}

/** Where the CLI keeps its cache: `$XDG_CACHE_HOME/vbapi`, else `~/.cache/vbapi`. */
export function defaultCacheDir(env: NodeJS.ProcessEnv = io().env): string {
  const xdg = env.XDG_CACHE_HOME;
  // HOME as os.homedir() reads it, from the run's environment.
  const home = env.HOME || homedir();
  return xdg?.startsWith("/") ? join(xdg, "vbapi") : join(home, ".cache", "vbapi");
}

function isCachedToken(value: unknown): value is CachedToken {
  const v = value as CachedToken;
  return (
    typeof v === "object" &&
    v !== null &&
    typeof v.token === "string" &&
    v.token !== "" &&
    typeof v.expiresAt === "number" &&
    Number.isFinite(v.expiresAt)
  );
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class FileTokenCache {
  readonly dir: string;
  /** The locks this cache holds now (path to content). */
  private readonly locks = new Map<string, string>();

  constructor(options: { dir?: string } = {}) {
    this.dir = options.dir ?? join(defaultCacheDir(), "tokens");
  }

  private file(key: string, suffix = ".json"): string {
    return join(
      this.dir,
      `${createHash("sha256").update(key).digest("hex").slice(0, 32)}${suffix}`,
    );
  }

  private async ensureDir(): Promise<void> {
    await fs.mkdir(this.dir, { recursive: true, mode: 0o700 });
  }

  /** The cached token, or undefined when there is none, it expired, or the file is unreadable. */
  async get(key: string): Promise<CachedToken | undefined> {
    let text: string;
    try {
      text = await fs.readFile(this.file(key), "utf8");
    } catch {
      return undefined;
    }
    try {
      const value: unknown = JSON.parse(text);
      if (!isCachedToken(value) || value.expiresAt <= Date.now()) return undefined;
      return { token: value.token, expiresAt: value.expiresAt, ...lifetimeOf(value) };
    } catch {
      return undefined; // a torn or foreign file is a cache miss, not an error
    }
  }

  /** Stores a token (0600, atomic: readers see the old file or the new one). */
  async set(key: string, value: CachedToken): Promise<void> {
    if (!isCachedToken(value))
      throw new TypeError("FileTokenCache.set: { token, expiresAt } expected");
    await this.ensureDir();
    const target = this.file(key);
    const temp = `${target}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
    const handle = await fs.open(temp, "wx", 0o600);
    try {
      await handle.writeFile(
        JSON.stringify({ token: value.token, expiresAt: value.expiresAt, ...lifetimeOf(value) }),
      );
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.rename(temp, target);
  }

  async delete(key: string): Promise<void> {
    await fs.rm(this.file(key), { force: true });
  }

  /**
   * Runs `fn` holding a lock on `key` across processes (a lock file created exclusively), so
   * two `vbapi` runs starting together log in once. The lock file names its holder (host, PID):
   * one left by a process of this host that no longer exists (kill -9) is taken over at once;
   * one from another host (a shared folder) is taken over when older than `ttlMs`. The lock is
   * released when `fn` ends for any reason, and when this process exits meanwhile.
   */
  async withLock<T>(key: string, ttlMs: number, fn: () => Promise<T>): Promise<T> {
    await this.ensureDir();
    const lock = this.file(key, ".lock");
    const mine = JSON.stringify({ host: hostname(), pid: process.pid, id: randomUUID() });
    const deadline = Date.now() + Math.max(ttlMs, 0) * 2 + 1000;
    for (;;) {
      try {
        // Appears with its content (see ../lock-file.ts): never an empty lock no one can judge.
        createLockFile(lock, mine);
        held.set(lock, mine);
        this.locks.set(lock, mine);
        releaseOnExit();
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
        const found = readLockFile(lock);
        if (found !== undefined && isStale(lock, found.seen, found.ageMs, ttlMs)) {
          if (!removeStaleLockFile(lock, found.seen)) await sleep(10); // another takes it over
          continue;
        }
        if (Date.now() > deadline)
          throw new Error("FileTokenCache: timed out waiting for the lock");
        await sleep(25);
      }
    }
    try {
      return await fn();
    } finally {
      // A lock taken over meanwhile (held past its ttl) is the new holder's: left alone. Read
      // and removed in one step: no other holder's lock can appear between the two.
      removeIfMine(lock, mine);
      if (held.get(lock) === mine) held.delete(lock);
      if (this.locks.get(lock) === mine) this.locks.delete(lock);
    }
  }

  /**
   * Removes the locks this cache holds now (each still its own), at once: for a caller that
   * stops waiting for what runs under them (the CLI, as a run of `main` ends with a login
   * still retrying: that login is aborted and must not hold up the next run). What runs under
   * such a lock goes on without it. Locks held through other caches are left alone.
   */
  releaseLocks(): void {
    for (const [lock, mine] of this.locks) {
      this.locks.delete(lock);
      if (held.get(lock) === mine) held.delete(lock);
      removeIfMine(lock, mine);
    }
  }
}

/** The lock files this process holds (path to content), removed if it exits holding them. */
const held = new Map<string, string>();
let exitHook = false;

/** On process.exit (a fail-fast stop, Ctrl-C) while a login holds a lock: remove the lock. */
function releaseOnExit(): void {
  if (exitHook) return;
  exitHook = true;
  process.on("exit", () => {
    for (const [lock, mine] of held) removeIfMine(lock, mine);
  });
}

function removeIfMine(lock: string, mine: string): void {
  try {
    if (readFileSync(lock, "utf8") === mine) rmSync(lock, { force: true });
  } catch {} // already gone
}

/**
 * A lock is stale when its holder, on this host, no longer exists (or is this process, which
 * does not hold it: a PID reused after a restart, as in a container), when it cannot be read
 * (empty, garbage) and is older than a few seconds, or when it is older than `ttlMs` (a holder
 * on another host). A bare PID (the previous release's format) names a process of this host.
 */
function isStale(lock: string, content: string, age: number, ttlMs: number): boolean {
  if (age > ttlMs) return true;
  const holder = holderOf(content);
  if (holder === undefined) return age > UNREADABLE_STALE_MS;
  const { host, pid } = holder;
  if (host !== hostname() || typeof pid !== "number" || !Number.isInteger(pid) || pid <= 0) {
    return false;
  }
  if (pid === process.pid) return !held.has(lock);
  return !processAlive(pid);
}

/**
 * Who holds a lock: its JSON `{host, pid}`; a bare PID (the previous release's format) is a
 * process of this host; undefined when the content cannot be read (empty, garbage).
 */
function holderOf(content: string): { host?: unknown; pid?: unknown } | undefined {
  if (/^\s*\d+\s*$/.test(content)) return { host: hostname(), pid: Number(content) };
  try {
    const parsed: unknown = JSON.parse(content);
    if (typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)) return parsed;
  } catch {}
  return undefined;
}
