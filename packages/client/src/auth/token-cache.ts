// Where a login's ID token is kept: in memory by default; a file (the CLI) or Redis
// (`@vbapi-sdk/redis`) shares it between processes, so they log in once.

/** A cached ID token and when it expires (epoch milliseconds). */
export interface StoredToken {
  token: string;
  expiresAt: number;
}

export interface TokenCache {
  get(key: string): Promise<StoredToken | undefined>;
  set(key: string, value: StoredToken): Promise<void>;
  delete(key: string): Promise<void>;
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
