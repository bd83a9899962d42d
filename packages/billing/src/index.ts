// @vbapi-sdk/billing: batch upserts of invoice close tolerances, claim prompt pay rules and
// Armor code / explanation code pairs.
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

export type Tolerance = EntityRecord<"Tolerance">;
export type ToleranceKey = EntityKey<"Tolerance">;
export type ClaimPromptPay = EntityRecord<"ClaimPromptPay">;
export type ClaimPromptPayKey = EntityKey<"ClaimPromptPay">;
export type ArmorCodeExCode = EntityRecord<"ArmorCodeExCode">;
export type ArmorCodeExCodeKey = EntityKey<"ArmorCodeExCode">;
export type UpsertTolerancesOptions = UpsertBatchOptions<"Tolerance">;
export type UpsertClaimPromptPaysOptions = UpsertBatchOptions<"ClaimPromptPay">;
export type UpsertArmorCodeExCodesOptions = UpsertBatchOptions<"ArmorCodeExCode">;

/** PUT /tolerances-batch: creates or updates invoice close tolerances in one request. */
export const upsertTolerances: (
  client: VbapiClient,
  records: readonly Tolerance[],
  options?: UpsertTolerancesOptions,
) => Promise<BatchResult<ToleranceKey>> = /* @__PURE__ */ batchUpserter("Tolerance");
/** PUT /claim-prompt-pays-batch: creates or updates claim prompt pay rules in one request. */
export const upsertClaimPromptPays: (
  client: VbapiClient,
  records: readonly ClaimPromptPay[],
  options?: UpsertClaimPromptPaysOptions,
) => Promise<BatchResult<ClaimPromptPayKey>> = /* @__PURE__ */ batchUpserter("ClaimPromptPay");
/** PUT /armor-code-ex-codes-batch: creates or updates Armor code / EX code pairs in one request. */
export const upsertArmorCodeExCodes: (
  client: VbapiClient,
  records: readonly ArmorCodeExCode[],
  options?: UpsertArmorCodeExCodesOptions,
) => Promise<BatchResult<ArmorCodeExCodeKey>> = /* @__PURE__ */ batchUpserter("ArmorCodeExCode");

// Bulk upserts: any number of records (array, iterable or async iterable), chunked, rate-limited
// and accounted for record by record. See @vbapi-sdk/client's upsertAll.
export {
  type BulkItem,
  type BulkProgress,
  type BulkReport,
  type UpsertAllEntityOptions,
  upsertAllArmorCodeExCodes,
  upsertAllClaimPromptPays,
  upsertAllTolerances,
} from "@vbapi-sdk/client";
