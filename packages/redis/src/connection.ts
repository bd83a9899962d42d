// Connections (a caller's own ioredis connection, or one we open and therefore close), SHA-256
// key derivation, and Lua scripts run by SHA with a timeout.

import { createHash } from "node:crypto";
import { type Cluster, Redis } from "ioredis";

/** An ioredis connection: a single node (`Redis`) or a cluster (`Cluster`). */
export type RedisConnection = Redis | Cluster;

export interface ConnectionOptions {
  /** Your existing ioredis connection; it is used as is and never closed by this package. */
  redis?: RedisConnection;
  /** A `redis://` / `rediss://` URL: this package opens its own connection and closes it in close(). */
  url?: string;
}

export interface Connection {
  client: RedisConnection;
  /** True when this package opened the connection (and so closes it). */
  owned: boolean;
}

export function connect(options: ConnectionOptions, fn: string): Connection {
  if (options.redis && options.url !== undefined) {
    throw new TypeError(`${fn}: pass either \`redis\` (a connection) or \`url\`, not both`);
  }
  if (options.redis) return { client: options.redis, owned: false };
  if (typeof options.url !== "string" || !/^(rediss?|unix):\/\//i.test(options.url)) {
    // The URL may hold a password: never echo it.
    throw new TypeError(
      `${fn}: \`url\` must be a redis://, rediss:// or unix:// URL (or pass \`redis\`, an ioredis connection)`,
    );
  }
  const client = new Redis(options.url, {
    // Fail a command after one reconnect attempt instead of queueing it for ever: the limiter
    // then falls back to its local bucket and keeps probing until Redis answers again.
    maxRetriesPerRequest: 1,
    connectTimeout: 2000,
    retryStrategy: (times) => Math.min(100 * times, 1000),
  });
  // Errors reach us through the commands that fail; without a listener ioredis prints each one.
  client.on("error", () => {});
  return { client, owned: true };
}

export async function disconnect(connection: Connection): Promise<void> {
  if (!connection.owned) return;
  try {
    await connection.client.quit();
  } catch {
    connection.client.disconnect();
  }
}

/** Hex SHA-256: the only form in which an API key or cache key reaches Redis. */
export function hashKey(secret: string): string {
  return createHash("sha256").update(secret).digest("hex");
}

export class RedisTimeoutError extends Error {
  override name = "RedisTimeoutError";
}

export function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new RedisTimeoutError(`Redis did not answer within ${ms} ms`)),
      ms,
    );
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export class LuaScript {
  readonly sha: string;
  constructor(readonly source: string) {
    this.sha = createHash("sha1").update(source).digest("hex");
  }

  /** EVALSHA, loading the script with EVAL when the server does not know it yet (NOSCRIPT). */
  async run(
    client: RedisConnection,
    keys: string[],
    args: (string | number)[],
    timeoutMs: number,
  ): Promise<unknown> {
    const call = async () => {
      try {
        return await client.evalsha(this.sha, keys.length, ...keys, ...args);
      } catch (error) {
        if (error instanceof Error && error.message.startsWith("NOSCRIPT")) {
          return await client.eval(this.source, keys.length, ...keys, ...args);
        }
        throw error;
      }
    };
    return withTimeout(call(), timeoutMs);
  }
}

/** A short reason for a log line: an error code or class, never a URL or a key. */
export function reasonOf(error: unknown): string {
  if (error instanceof RedisTimeoutError) return error.message;
  if (error && typeof error === "object") {
    const code = (error as { code?: unknown }).code;
    if (typeof code === "string") return code;
    const message = (error as { message?: unknown }).message;
    // A Redis reply error starts with its code in capitals (READONLY, OOM, LOADING, WRONGTYPE ...).
    if (typeof message === "string" && /^[A-Z]{3,}\b/.test(message)) {
      return message.split(/\s/)[0] as string;
    }
    const name = (error as { name?: unknown }).name;
    if (typeof name === "string") return name;
  }
  return "unknown error";
}
