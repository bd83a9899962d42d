// @vbapi-sdk/events: batch upserts of VBA events (tasks, reminders, claim-audit and report-series triggers).
import {
  type BatchResult,
  batchUpserter,
  type EntityKey,
  type EntityRecord,
  type UpsertBatchOptions,
  type VbapiClient,
} from "@vbapi-sdk/client";

export {
  type BatchItem,
  type BatchResult,
  createVbapiClient,
  type VbapiClient,
  type VbapiClientOptions,
} from "@vbapi-sdk/client";

/** A VBA event record (named VbaEvent so it does not shadow the DOM's Event). */
export type VbaEvent = EntityRecord<"Event">;
export type VbaEventKey = EntityKey<"Event">;
export type UpsertEventsOptions = UpsertBatchOptions<"Event">;

/** Creates or updates events in one request (PUT /events-batch); one result item per record, in order. */
export const upsertEvents: (
  client: VbapiClient,
  records: readonly VbaEvent[],
  options?: UpsertEventsOptions,
) => Promise<BatchResult<VbaEventKey>> = /* @__PURE__ */ batchUpserter("Event");

// Bulk upserts: any number of records (array, iterable or async iterable), chunked, rate-limited
// and accounted for record by record. See @vbapi-sdk/client's upsertAll.
export {
  type BulkItem,
  type BulkProgress,
  type BulkReport,
  type UpsertAllEntityOptions,
  upsertAllEvents,
} from "@vbapi-sdk/client";
