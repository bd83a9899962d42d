/**
 * Bulk upserts: `upsertAll` plus one-liners per entity (generated). See {@link upsertAll}.
 *
 * @packageDocumentation
 */

// The per-entity one-liners (`upsertAllEvents`, ...) are generated from the spec.
export * from "../generated/bulk.ts";
export { MAY_HAVE_BEEN_APPLIED } from "./ledger.ts";
export {
  type BulkUpserter,
  bulkUpserter,
  type EntityWithoutPathParams,
  type UpsertAllEntityOptions,
} from "./one-liner.ts";
export type { BulkOptions } from "./options.ts";
export type { BulkInput } from "./source.ts";
export {
  type BulkClient,
  type UpsertAllArgs,
  type UpsertAllOptions,
  upsertAll,
} from "./upsert-all.ts";
