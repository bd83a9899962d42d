/**
 * Bulk upserts: `upsertAll` plus one-liners per entity. See {@link upsertAll} for semantics.
 *
 * @packageDocumentation
 */
import type {
  EntityKey,
  EntityName,
  EntityRecord,
  EntityWithPathParams,
} from "../generated/entities.ts";
import type { BulkReport } from "../types.ts";
import type { BulkInput } from "./source.ts";
import { type BulkClient, type UpsertAllOptions, upsertAll } from "./upsert-all.ts";

export { DEFAULT_CHUNK_SIZE, DEFAULT_MAX_CHUNK_BYTES } from "./chunker.ts";
export { MAY_HAVE_BEEN_APPLIED } from "./ledger.ts";
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

/** Options of the per-entity one-liners (no `pathParams`: the ProviderCredService one takes the key). */
export type UpsertAllEntityOptions<E extends EntityName = EntityName> = Omit<
  UpsertAllOptions<E>,
  "pathParams"
>;

/** Entities whose batch path has no parameters. */
type UnscopedEntity = Exclude<EntityName, EntityWithPathParams>;

/** The bulk upsert of one unscoped entity, as a one-liner: `bulkUpserter("Event")`. */
export function bulkUpserter<E extends UnscopedEntity>(entity: E) {
  return (
    client: BulkClient,
    records: BulkInput<EntityRecord<E>>,
    options?: UpsertAllEntityOptions<E>,
  ): Promise<BulkReport<EntityKey<E>>> =>
    upsertAll(client, entity, records, options as UpsertAllOptions<E>);
}

/** Bulk upsert of events (`PUT /events-batch`). See {@link upsertAll}. */
export const upsertAllEvents = /* @__PURE__ */ bulkUpserter("Event");
/** Bulk upsert of invoice close tolerances (`PUT /tolerances-batch`). See {@link upsertAll}. */
export const upsertAllTolerances = /* @__PURE__ */ bulkUpserter("Tolerance");
/** Bulk upsert of claim prompt pay rules (`PUT /claim-prompt-pays-batch`). See {@link upsertAll}. */
export const upsertAllClaimPromptPays = /* @__PURE__ */ bulkUpserter("ClaimPromptPay");
/** Bulk upsert of Armor code / EX code pairings (`PUT /armor-code-ex-codes-batch`). See {@link upsertAll}. */
export const upsertAllArmorCodeExCodes = /* @__PURE__ */ bulkUpserter("ArmorCodeExCode");

/**
 * Bulk upsert of the services of one provider credentialing process
 * (`PUT /provider-credentialing/{providerCredKey}/services-batch`). Every record's
 * `providerCred_Key` must equal `providerCredKey` (records that do not are reported failed).
 * See {@link upsertAll}.
 */
export function upsertAllProviderCredServices(
  client: BulkClient,
  providerCredKey: number,
  records: BulkInput<EntityRecord<"ProviderCredService">>,
  options?: UpsertAllEntityOptions<"ProviderCredService">,
): Promise<BulkReport<EntityKey<"ProviderCredService">>> {
  return upsertAll(client, "ProviderCredService", records, {
    ...options,
    pathParams: { providerCredKey },
  });
}
