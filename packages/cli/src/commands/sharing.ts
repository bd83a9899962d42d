// Where a run's rate budget and login token live: this process (the credentials from the
// environment, the client's own rate limiter), or Redis with --redis / VBAPI_REDIS_URL, shared
// with every process under the same API key.
import type { Limiter } from "@vbapi-sdk/client";
import { type Credentials, credentialsFromEnv } from "../auth.ts";
import { io } from "../io.ts";
import { log } from "../log-format.ts";
import { rateLimitOption } from "../session/client.ts";
import { UsageError } from "./args.ts";

export interface Sharing {
  credentials: Credentials;
  /** undefined: the client's own limiter. */
  limiter: Limiter | undefined;
  close(): Promise<void>;
}

export async function openSharing(
  target: { baseUrl: string; database: string; rateLimit: number | "off" | undefined },
  redisFlag: string | undefined,
): Promise<Sharing> {
  const redisUrl = redisFlag ?? io().env.VBAPI_REDIS_URL;
  if (redisUrl === undefined || redisUrl === "") {
    const found = credentialsFromEnv(target);
    if ("missing" in found) throw new UsageError(found.missing);
    return { credentials: found, limiter: undefined, close: async () => {} };
  }
  if (!/^rediss?:\/\//.test(redisUrl)) {
    throw new UsageError("--redis / VBAPI_REDIS_URL must be a redis:// or rediss:// URL");
  }
  const { createRedisRateLimiter, createRedisTokenCache } = await import("@vbapi-sdk/redis");
  // An outage is a warning log line (not console's: its info line would land on stdout).
  const logger = {
    warn: (message: string) => log("warn", message),
    info: (message: string) => log("info", message, { text: false }),
  };
  const cache = createRedisTokenCache({ url: redisUrl, logger });
  const found = credentialsFromEnv({ ...target, cache });
  if ("missing" in found) {
    await cache.close();
    throw new UsageError(found.missing);
  }
  // Without --rate-limit, @vbapi-sdk/redis's own defaults (25/s; a burst that keeps more in
  // hand than one process's, for the jitter of several).
  const rate = rateLimitOption(target.rateLimit);
  const limiter =
    rate === false
      ? undefined
      : createRedisRateLimiter({
          url: redisUrl,
          apiKey: found.apiKey,
          logger,
          ...(rate ? { requestsPerSecond: rate.requestsPerSecond, burst: rate.burst } : {}),
        });
  return {
    credentials: found,
    limiter,
    close: async () => {
      await Promise.allSettled([limiter?.close(), cache.close()]);
    },
  };
}
