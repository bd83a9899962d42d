// Public API of @vbapi-sdk/redis.

export {
  type ConnectionOptions,
  type RedisConnection,
  RedisTimeoutError,
} from "./connection.js";
export {
  createRedisRateLimiter,
  type RedisRateLimiter,
  type RedisRateLimiterOptions,
  type RedisRateLimiterStats,
  RedisUnavailableError,
} from "./rate-limiter.js";
export {
  createRedisTokenCache,
  LockTimeoutError,
  type RedisTokenCache,
  type RedisTokenCacheOptions,
} from "./token-cache.js";
export type { Limiter, RedisLogger, StoredToken, TokenCache } from "./types.js";
