// @vbapi-sdk/credentialing: batch upserts of the services of a provider credentialing process.
import type {
  BatchResult,
  EntityKey,
  EntityPathParams,
  EntityRecord,
  UpsertBatchOptions,
  VbapiClient,
} from "@vbapi-sdk/client";

export {
  type BatchItem,
  type BatchResult,
  createVbapiClient,
  type VbapiClient,
  type VbapiClientOptions,
} from "@vbapi-sdk/client";

export type ProviderCredService = EntityRecord<"ProviderCredService">;
export type ProviderCredServiceKey = EntityKey<"ProviderCredService">;
/** The credentialing process (ProviderCred_Key) a batch of services belongs to. */
export type ProviderCredKey = EntityPathParams<"ProviderCredService">["providerCredKey"];
export type UpsertProviderCredServicesOptions = Omit<
  UpsertBatchOptions<"ProviderCredService">,
  "pathParams"
>;

/**
 * PUT /provider-credentialing/{providerCredKey}/services-batch: creates or updates the services of
 * one credentialing process. Every record's providerCred_Key must equal `providerCredKey`
 * (checked before sending unless `validate: false`).
 */
export function upsertProviderCredServices(
  client: VbapiClient,
  providerCredKey: ProviderCredKey,
  records: readonly ProviderCredService[],
  options: UpsertProviderCredServicesOptions = {},
): Promise<BatchResult<ProviderCredServiceKey>> {
  return client.upsertBatch("ProviderCredService", records, {
    ...options,
    pathParams: { providerCredKey },
  });
}

// Bulk upserts: any number of records (array, iterable or async iterable), chunked, rate-limited
// and accounted for record by record. See @vbapi-sdk/client's upsertAll.
export {
  type BulkItem,
  type BulkProgress,
  type BulkReport,
  type UpsertAllEntityOptions,
  upsertAllProviderCredServices,
} from "@vbapi-sdk/client";
