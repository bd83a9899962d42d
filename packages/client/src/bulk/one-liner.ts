// The shape of a per-entity bulk one-liner; the one-liners themselves are generated from the
// spec into src/generated/bulk.ts.

import type { BulkReport } from "../base/types.ts";
import type {
  EntityKey,
  EntityName,
  EntityRecord,
  EntityWithPathParams,
} from "../generated/entities.ts";
import type { BulkInput } from "./source.ts";
import { type BulkClient, type UpsertAllOptions, upsertAll } from "./upsert-all.ts";

/** Options of the per-entity one-liners (no `pathParams`: scoped entities take them first). */
export type UpsertAllEntityOptions<E extends EntityName = EntityName> = Omit<
  UpsertAllOptions<E>,
  "pathParams"
>;

/** The entities whose batch path has no parameters (the complement of `EntityWithPathParams`). */
export type EntityWithoutPathParams = Exclude<EntityName, EntityWithPathParams>;

/** A bulk one-liner of one unscoped entity: `upsertAllEvents(client, records, options?)`. */
export type BulkUpserter<E extends EntityWithoutPathParams> = (
  client: BulkClient,
  records: BulkInput<EntityRecord<E>>,
  options?: UpsertAllEntityOptions<E>,
) => Promise<BulkReport<EntityKey<E>>>;

/** The bulk upsert of one unscoped entity, as a one-liner: `bulkUpserter("Event")`. */
export function bulkUpserter<E extends EntityWithoutPathParams>(entity: E): BulkUpserter<E> {
  return (
    client: BulkClient,
    records: BulkInput<EntityRecord<E>>,
    options?: UpsertAllEntityOptions<E>,
  ): Promise<BulkReport<EntityKey<E>>> =>
    upsertAll(client, entity, records, options as UpsertAllOptions<E>);
}
