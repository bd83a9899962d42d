// Public API of @vbapi-sdk/client.

// --- bulk engine (src/bulk/, built by the bulk helper) ---
export * from "./bulk/index.js";
export {
  batchUpserter,
  createVbapiClient,
  DEFAULT_BASE_URL,
  type RawClient,
  SDK_VERSION,
  type UpsertBatchArgs,
  type UpsertBatchOptions,
  type ValidateMode,
  type VbapiClient,
  type VbapiClientOptions,
} from "./core/client.js";
export {
  AbortError,
  ApiError,
  type ApiErrorFields,
  AuthenticationError,
  BadRequestError,
  ConfigurationError,
  ConnectionError,
  InternalServerError,
  PermissionDeniedError,
  RateLimitError,
  ResponseParseError,
  TimeoutError,
  ValidationError,
  type ValidationIssue,
  VbapiError,
} from "./core/errors.js";
export type { Logger, LogLevel } from "./core/logger.js";
export {
  DEFAULT_RATE_LIMIT,
  RateLimiter,
  type RateLimiterStats,
  type RateLimitOptions,
} from "./core/rate-limit.js";
export type { VbapiPaths } from "./core/raw.js";
export { redact } from "./core/redact.js";
export {
  keyOf,
  keyString,
  type MultiCodeEntry,
  matchItems,
  NOT_REPORTED_MESSAGE,
  outcomeOf,
  toBatchResult,
} from "./core/results.js";
export {
  type BackoffOptions,
  backoffDelay,
  DEFAULT_BACKOFF,
  isRetryableStatus,
  parseRetryAfter,
  retryDelay,
} from "./core/retry.js";
export type { RequestOptions, RetryInfo, TokenProvider } from "./core/transport.js";
export { validateRecords } from "./core/validate.js";
export {
  type EntityKey,
  type EntityKeyField,
  type EntityName,
  type EntityPathParams,
  type EntityRecord,
  type EntityWithPathParams,
  entities,
  entityNames,
} from "./generated/entities.js";
export type { components, operations, paths } from "./generated/schema.js";
export {
  pathParamValidators,
  type RecordValidator,
  recordValidators,
} from "./generated/validators.js";
export type * from "./types.js";
