// Where a login's ID token is kept: in memory by default; a file (the CLI) or Redis
// (`@vbapi-sdk/redis`) shares it between processes, so they log in once.

/** A cached ID token and when it expires. */
export interface StoredToken {
  token: string;
  /** Epoch milliseconds on the clock of the process that logged in, measured from the answer's arrival. */
  expiresAt: number;
  /**
   * The token's whole lifetime as measured at login (`exp - iat`), so that every process sharing
   * the cache renews it at the same point. A cache should keep it; without it a reader takes
   * what is left of the token when it reads it.
   */
  lifetimeMs?: number;
}

export interface TokenCache {
  get(key: string): Promise<StoredToken | undefined>;
  set(key: string, value: StoredToken): Promise<void>;
  delete(key: string): Promise<void>;
  /**
   * Optional: deletes the entry only if it still holds `token` (atomically), so a 401 in one
   * process never deletes the newer token another process just stored. Without it, the login
   * reads the entry and deletes it when it still holds `token`.
   */
  deleteToken?(key: string, token: string): Promise<void>;
  /**
   * Optional cross-process mutual exclusion, so that only one process logs in at a time: runs
   * `fn` while holding a lock on `key`, which expires after `ttlMs` if its holder dies.
   */
  withLock?<T>(key: string, ttlMs: number, fn: () => Promise<T>): Promise<T>;
}

/** The default cache: this process only. Expired entries are dropped when read. */
export function memoryTokenCache(): TokenCache {
  const entries = new Map<string, StoredToken>();
  return {
    async get(key) {
      const entry = entries.get(key);
      if (entry && entry.expiresAt <= Date.now()) {
        entries.delete(key);
        return undefined;
      }
      return entry;
    },
    async set(key, value) {
      entries.set(key, value);
    },
    async delete(key) {
      entries.delete(key);
    },
  };
}
