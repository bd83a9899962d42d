// The CLI's token cache: one 0600 file per key in the user's cache directory
// ($XDG_CACHE_HOME/vbapi, else ~/.cache/vbapi), written atomically (temp file + rename).
// It implements the client's TokenCache interface (issue 13) structurally: the login token
// provider stores VBA's idToken here so a second `vbapi` run does not log in again.
// The key is hashed for the file name; the file holds only { token, expiresAt, lifetimeMs }:
// the expiry and lifetime the login measured (not a re-read of the JWT's exp).
import { createHash, randomBytes } from "node:crypto";
import { promises as fs } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";

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
export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env.XDG_CACHE_HOME;
  return xdg?.startsWith("/") ? join(xdg, "vbapi") : join(homedir(), ".cache", "vbapi");
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
   * two `vbapi` runs starting together log in once. A lock older than `ttlMs` is taken over
   * (its holder died).
   */
  async withLock<T>(key: string, ttlMs: number, fn: () => Promise<T>): Promise<T> {
    await this.ensureDir();
    const lock = this.file(key, ".lock");
    const deadline = Date.now() + Math.max(ttlMs, 0) * 2 + 1000;
    for (;;) {
      try {
        const handle = await fs.open(lock, "wx", 0o600);
        await handle.writeFile(String(process.pid));
        await handle.close();
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
        const stat = await fs.stat(lock).catch(() => undefined);
        if (stat !== undefined && Date.now() - stat.mtimeMs > ttlMs) {
          await fs.rm(lock, { force: true });
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
      await fs.rm(lock, { force: true });
    }
  }
}
