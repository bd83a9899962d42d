// Public API of @vbapi-sdk/client. Every name here is a promise kept across minor releases:
// test/public-api.test.ts lists them, so adding or removing one is a deliberate change.

export {
  type LoginTokenProvider,
  type PasswordLoginOptions,
  passwordLogin,
} from "./auth/login.ts";
export { memoryTokenCache, type StoredToken, type TokenCache } from "./auth/token-cache.ts";
export * from "./bulk/index.ts";
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
} from "./core/client.ts";
export { DEFAULT_MAX_RESPONSE_BYTES } from "./core/config.ts";
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
} from "./core/errors.ts";
export type { Logger, LogLevel } from "./core/logger.ts";
export {
  DEFAULT_RATE_LIMIT,
  type Limiter,
  RateLimiter,
  type RateLimiterStats,
  type RateLimitOptions,
} from "./core/rate-limit.ts";
export type { VbapiPaths } from "./core/raw.ts";
export { type BackoffOptions, DEFAULT_BACKOFF } from "./core/retry.ts";
export { validateRecords } from "./core/validate.ts";
export {
  type EntityKey,
  type EntityKeyField,
  type EntityName,
  type EntityPathParams,
  type EntityRecord,
  type EntityWithPathParams,
  entities,
  entityNames,
} from "./generated/entities.ts";
export type { components, operations, paths } from "./generated/schema.ts";
export {
  pathParamValidators,
  type RecordValidator,
  recordValidators,
} from "./generated/validators.ts";
export { NOT_REPORTED_MESSAGE } from "./internal/results.ts";
export type { TokenProvider } from "./internal/tokens.ts";
export type { RequestOptions, RetryInfo } from "./internal/transport.ts";
export type * from "./types.ts";
