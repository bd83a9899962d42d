// Emits the entity table: everything the client needs to know about each batch operation.
import type { BatchOperation } from "@vbapi-sdk/tool-spec-model";

const q = (s: string) => JSON.stringify(s);

export function emitEntities(entities: BatchOperation[], header: string): string {
  const table = entities.map((e) => {
    const record = Object.entries(e.recordFieldForPathParam)
      .map(([param, field]) => `${q(param)}: ${q(field)}`)
      .join(", ");
    return [
      `  ${e.entity}: {`,
      `    operationId: ${q(e.operationId)},`,
      `    plural: ${q(e.plural)},`,
      `    method: ${q(e.method)},`,
      `    path: ${q(e.path)},`,
      `    pathParams: [${e.pathParams.map((p) => q(p.name)).join(", ")}],`,
      `    keys: [${e.keys.map(q).join(", ")}],`,
      `    recordFieldForPathParam: {${record ? ` ${record} ` : ""}},`,
      "  },",
    ].join("\n");
  });
  const pathParamTypes = entities.map((e) =>
    e.pathParams.length === 0
      ? `  ${e.entity}: never;`
      : `  ${e.entity}: paths[${q(e.path)}][${q(e.method)}]["parameters"]["path"];`,
  );
  return [
    header,
    `import type { components, paths } from "./schema.ts";`,
    "",
    "/** Every batch operation of the spec, keyed by the entity (request item schema) it upserts. */",
    "export const entities = {",
    ...table,
    "} as const;",
    "",
    "export type Entities = typeof entities;",
    "/** Name of an entity that has a batch upsert operation. */",
    "export type EntityName = keyof Entities;",
    "/** A record of entity E, as the spec describes it. */",
    `export type EntityRecord<E extends EntityName> = components["schemas"][E];`,
    "/** The key fields of entity E (from `x-vbapi-key`). */",
    `export type EntityKeyField<E extends EntityName> = Entities[E]["keys"][number];`,
    "/** The key of a record of entity E: its key fields and their values. */",
    "export type EntityKey<E extends EntityName> = Pick<EntityRecord<E>, EntityKeyField<E> & keyof EntityRecord<E>>;",
    "/** Path parameters of each entity's batch operation (`never` when it has none). */",
    "export interface EntityPathParamsMap {",
    ...pathParamTypes,
    "}",
    "export type EntityPathParams<E extends EntityName> = EntityPathParamsMap[E];",
    "/** Entities whose batch operation has path parameters. */",
    "export type EntityWithPathParams = {",
    "  [E in EntityName]: [EntityPathParamsMap[E]] extends [never] ? never : E;",
    "}[EntityName];",
    "/** The entity names, in a stable order. */",
    `export const entityNames: readonly EntityName[] = [${entities.map((e) => q(e.entity)).join(", ")}];`,
    "",
  ].join("\n");
}
