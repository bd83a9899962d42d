// Public API of @vbapi-sdk/redis.

export {
  type ConnectionOptions,
  type RedisConnection,
  RedisTimeoutError,
} from "./connection.ts";
export type { RedisRateLimiterOptions } from "./limiter-options.ts";
export {
  createRedisRateLimiter,
  type RedisRateLimiter,
  type RedisRateLimiterStats,
  RedisUnavailableError,
} from "./rate-limiter.ts";
export {
  createRedisTokenCache,
  LockTimeoutError,
  type RedisTokenCache,
  type RedisTokenCacheOptions,
} from "./token-cache.ts";
export type { Limiter, RedisLogger, StoredToken, TokenCache } from "./types.ts";
