/**
 * Bulk upserts: `upsertAll` plus one-liners per entity (generated). See {@link upsertAll}.
 *
 * @packageDocumentation
 */

// The per-entity one-liners (`upsertAllEvents`, ...) are generated from the spec.
export * from "../generated/bulk.ts";
export { DEFAULT_CHUNK_SIZE, DEFAULT_MAX_CHUNK_BYTES } from "./chunker.ts";
export { MAY_HAVE_BEEN_APPLIED } from "./ledger.ts";
export { bulkUpserter, type UpsertAllEntityOptions } from "./one-liner.ts";
export {
  type BulkOptions,
  DEFAULT_CONCURRENCY,
  DEFAULT_LINGER_MS,
  DEFAULT_MAX_RECORD_RETRIES,
  DEFAULT_RECORD_RETRY_DELAY_MS,
} from "./options.ts";
export { DEFAULT_PROGRESS_INTERVAL_MS } from "./progress.ts";
export type { BulkInput } from "./source.ts";
export {
  type BulkClient,
  type UpsertAllArgs,
  type UpsertAllOptions,
  upsertAll,
} from "./upsert-all.ts";
