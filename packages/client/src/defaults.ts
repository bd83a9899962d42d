// Every default of the SDK in one read-only object, for code that states or compares them (a
// CLI's --help, a test of its documentation). Each value is the constant the code itself uses.
import { DEFAULT_BASE_URL, DEFAULT_MAX_RESPONSE_BYTES } from "./base/defaults.ts";
import type { LogLevel } from "./base/logger.ts";
import { DEFAULT_BACKOFF } from "./base/retry.ts";
import { DEFAULT_CHUNK_SIZE, DEFAULT_MAX_CHUNK_BYTES } from "./bulk/chunker.ts";
import { MAX_AUTO_CONCURRENCY, UNKNOWN_RATE_CONCURRENCY } from "./bulk/concurrency.ts";
import {
  DEFAULT_CONCURRENCY,
  DEFAULT_LINGER_MS,
  DEFAULT_MAX_RECORD_RETRIES,
  DEFAULT_RECORD_RETRY_DELAY_MS,
} from "./bulk/options.ts";
import { DEFAULT_PROGRESS_INTERVAL_MS } from "./bulk/progress.ts";
import { DEFAULT_LOG_LEVEL, DEFAULT_MAX_RETRIES, DEFAULT_TIMEOUT_MS } from "./client/config.ts";
import { DEFAULT_RATE_LIMIT } from "./transport/rate-limit.ts";

const freeze = <T extends object>(value: T): Readonly<T> => Object.freeze(value);

// Written out, not inferred from the object below: the build then makes this file's declarations
// without a type checker (isolated declarations, lib/build).
/** The type of {@link defaults}: every default of the SDK, read-only. */
type SdkDefaults = Readonly<{
  /** createVbapiClient */
  baseUrl: string;
  timeoutMs: number;
  maxRetries: number;
  backoff: Readonly<{ initialDelayMs: number; maxDelayMs: number; maxRetryAfterMs: number }>;
  /** The client's own bucket: VBA allows 25/s, burst 50; five of the burst are kept in hand. */
  rateLimit: Readonly<{ requestsPerSecond: number; burst: number }>;
  maxResponseBytes: number;
  logLevel: LogLevel;
  /** upsertAll */
  bulk: Readonly<{
    chunkSize: number;
    maxChunkBytes: number;
    /**
     * Adaptive unless set: the limit's burst first (`initial` when the burst is not known), then
     * rate × round trip (`unknownRate` when the rate is not known), at most `max`.
     */
    concurrency: Readonly<{ initial: number; unknownRate: number; max: number }>;
    maxRecordRetries: number;
    recordRetryDelayMs: number;
    lingerMs: number;
    progressIntervalMs: number;
  }>;
}>;

const values = freeze({
  baseUrl: DEFAULT_BASE_URL,
  timeoutMs: DEFAULT_TIMEOUT_MS,
  maxRetries: DEFAULT_MAX_RETRIES,
  backoff: freeze({ ...DEFAULT_BACKOFF }),
  rateLimit: freeze({ ...DEFAULT_RATE_LIMIT }),
  maxResponseBytes: DEFAULT_MAX_RESPONSE_BYTES,
  logLevel: DEFAULT_LOG_LEVEL,
  bulk: freeze({
    chunkSize: DEFAULT_CHUNK_SIZE,
    maxChunkBytes: DEFAULT_MAX_CHUNK_BYTES,
    concurrency: freeze({
      initial: DEFAULT_CONCURRENCY,
      unknownRate: UNKNOWN_RATE_CONCURRENCY,
      max: MAX_AUTO_CONCURRENCY,
    }),
    maxRecordRetries: DEFAULT_MAX_RECORD_RETRIES,
    recordRetryDelayMs: DEFAULT_RECORD_RETRY_DELAY_MS,
    lingerMs: DEFAULT_LINGER_MS,
    progressIntervalMs: DEFAULT_PROGRESS_INTERVAL_MS,
  }),
});

/** Whether two types are the same (not merely assignable either way). */
type Same<A, B> =
  (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
// Does not compile when SdkDefaults and the object above disagree (a field added to one only).
const sameShape: Same<typeof values, SdkDefaults> = true;
void sameShape;

/** The SDK's defaults: what an option is when it is not given. */
export const defaults: SdkDefaults = values;
