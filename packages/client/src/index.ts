// Public API of @vbapi-sdk/client. Every name here is a promise kept across minor releases:
// test/public-api.test.ts lists them, so adding or removing one is a deliberate change.

export * from "./bulk/index.js";
export {
  batchUpserter,
  createVbapiClient,
  DEFAULT_BASE_URL,
  type PathParamsOption,
  type RawClient,
  SDK_VERSION,
  type UpsertBatchArgs,
  type UpsertBatchOptions,
  type ValidateMode,
  type VbapiClient,
  type VbapiClientOptions,
} from "./core/client.js";
export { DEFAULT_MAX_RESPONSE_BYTES } from "./core/config.js";
export {
  AbortError,
  ApiError,
  type ApiErrorFields,
  AuthenticationError,
  BadRequestError,
  BulkAccountingError,
  BulkCallbackError,
  BulkInputError,
  BulkRunError,
  ConfigurationError,
  ConnectionError,
  InternalServerError,
  NoResponseError,
  PermissionDeniedError,
  RateLimitError,
  RequestSetupError,
  ResponseParseError,
  TimeoutError,
  TokenProviderError,
  ValidationError,
  type ValidationIssue,
  VbapiError,
} from "./core/errors.js";
export type { Logger, LogLevel } from "./core/logger.js";
export {
  DEFAULT_RATE_LIMIT,
  type Limiter,
  RateLimiter,
  type RateLimiterStats,
  type RateLimitOptions,
} from "./core/rate-limit.js";
export type { VbapiPaths } from "./core/raw.js";
export { type BackoffOptions, DEFAULT_BACKOFF } from "./core/retry.js";
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
export { NOT_REPORTED_MESSAGE } from "./internal/results.js";
export type { TokenProvider } from "./internal/tokens.js";
export type { RequestOptions, RetryInfo } from "./internal/transport.js";
export type * from "./types.js";
