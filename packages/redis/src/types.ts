// The interfaces this package implements are @vbapi-sdk/client's own.
export type { Limiter, StoredToken, TokenCache } from "@vbapi-sdk/client";

/** Where this package reports a Redis outage and its end (console fits). */
export interface RedisLogger {
  warn(message: string): void;
  info?(message: string): void;
}
