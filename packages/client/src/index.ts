// Public API of @vbapi-sdk/client. Every name here is a promise kept across minor releases:
// test/public-api.test.ts lists them, so adding or removing one is a deliberate change.

export {
  type LoginTokenProvider,
  type PasswordLoginOptions,
  passwordLogin,
} from "./auth/login.ts";
export { memoryTokenCache, type StoredToken, type TokenCache } from "./auth/token-cache.ts";
export { jwtTimes as tokenTimes } from "./auth/token-life.ts";
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
} from "./base/errors.ts";
export {
  describeNetworkFailure,
  type NetworkFailure,
  type NetworkFailureKind,
} from "./base/failure.ts";
export { keyIdOfValues as keyIdentity } from "./base/keys.ts";
export type { Logger, LogLevel } from "./base/logger.ts";
export { type BackoffOptions, gatewayGaveUp } from "./base/retry.ts";
export type * from "./base/types.ts";
export { validateRecords } from "./base/validate.ts";
export * from "./bulk/index.ts";
export {
  batchUpserter,
  createVbapiClient,
  type PathParamsOption,
  type RawClient,
  SDK_VERSION,
  type UpsertBatchArgs,
  type UpsertBatchOptions,
  type ValidateMode,
  type VbapiClient,
  type VbapiClientOptions,
} from "./client/client.ts";
export type { VbapiPaths } from "./client/raw.ts";
export { defaults } from "./defaults.ts";
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
export type { RecordValidator } from "./generated/validators.ts";
export {
  type Limiter,
  RateLimiter,
  type RateLimiterStats,
  type RateLimitOptions,
} from "./transport/rate-limit.ts";
export { NOT_REPORTED_MESSAGE } from "./transport/results.ts";
export type { TokenProvider } from "./transport/tokens.ts";
export type { RequestOptions, RetryInfo } from "./transport/transport.ts";
