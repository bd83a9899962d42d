/**
 * `@vbapi-sdk/mock-server`: a stateful reference server for VBA's five "Create or Update
 * Batch" endpoints, driven by the bundled OpenAPI description. Start it with
 * {@link startMockServer}; inspect what it stored with `server.store`, inject faults with
 * `server.faults`.
 *
 * @packageDocumentation
 */
export { ADMIN_ROUTES } from "./admin.ts";
export type {
  BadBodyFault,
  DelayFault,
  FailRecordsFault,
  FaultPhase,
  FaultSpec,
  FaultTarget,
  KeyMatch,
  OmitRecordsFault,
  RecordPredicate,
  ResetConnectionFault,
  StatusFault,
} from "./fault-spec.ts";
export type { FaultController, FaultHandle, FaultInfo } from "./faults.ts";
export type { LatencyOptions } from "./latency.ts";
export {
  DEFAULT_ADMIN_HEADER,
  DEFAULT_API_KEY,
  DEFAULT_MAX_BODY_BYTES,
  DEFAULT_TOKEN,
  type MockServerOptions,
  type RequestLogEntry,
} from "./options.ts";
export type { ProblemDetails } from "./problem.ts";
export type { RateLimitOptions } from "./rate-limit.ts";
export type { RouteSummary } from "./routes.ts";
export { type MockCredentials, type MockServer, startMockServer } from "./server.ts";
export type { OpenApiDocument } from "./spec.ts";
export { type ApiKeyStats, apiKeyId, type MockStats } from "./state.ts";
export type { KeyValue, MockStore, StoredRecord } from "./store.ts";
