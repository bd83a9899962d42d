// The CLI's view of the entities: names, keys and path parameters from the client's generated
// entity table, field metadata (type, format, required, max length, description) from the
// bundled OpenAPI description. Nothing here is a hand list: a sixth batch endpoint in the spec
// shows up as a sixth CLI entity.
import { type EntityName, entities, entityNames } from "@vbapi-sdk/client";
import spec from "@vbapi-sdk/openapi";

export type FieldType = "integer" | "number" | "boolean" | "string";

export interface FieldMeta {
  name: string;
  type: FieldType;
  /** The spec's format (int32, double, date-time...), when it has one. */
  format: string | undefined;
  required: boolean;
  nullable: boolean;
  maxLength: number | undefined;
  minLength: number | undefined;
  description: string;
}

export interface CliEntity {
  /** The spec's schema name, as the client knows it (`Tolerance`). */
  entity: EntityName;
  /** The plural kebab name used on the command line (`tolerances`). */
  name: string;
  /** The batch path (`/tolerances-batch`). */
  path: string;
  description: string;
  keys: readonly string[];
  pathParams: readonly string[];
  /** Path parameter -> the record field that must carry the same value. */
  recordFieldForPathParam: Readonly<Record<string, string>>;
  fields: FieldMeta[];
  /** The field by lower-case name (headers match case-insensitively). */
  byLowerName: Map<string, FieldMeta>;
  /** The spec's first example record, when it has one. */
  example: Record<string, unknown> | undefined;
}

interface JsonSchema {
  type?: string | string[];
  format?: string;
  maxLength?: number;
  minLength?: number;
  description?: string;
  title?: string;
  required?: string[];
  properties?: Record<string, JsonSchema>;
  examples?: unknown[];
  $ref?: string;
}

/**
 * An entity's CLI name: its plural (the spec's `x-vbapi-plural`, in the entity table) in
 * kebab-case, else the schema name made plural (`FooBarCode` -> `foo-bar-codes`).
 */
export function cliNameOf(entity: string, plural?: string): string {
  const kebab = (plural ?? entity).replace(/([a-z0-9])([A-Z])/g, "$1-$2").toLowerCase();
  return plural !== undefined || kebab.endsWith("s") ? kebab : `${kebab}s`;
}

/** `providerCredKey` -> `--provider-cred-key`. */
export function flagOf(pathParam: string): string {
  return `--${pathParam.replace(/([a-z0-9])([A-Z])/g, "$1-$2").toLowerCase()}`;
}

const schemas = (spec.components as { schemas?: Record<string, JsonSchema> }).schemas ?? {};

function resolve(schema: JsonSchema): JsonSchema {
  const ref = schema.$ref;
  if (ref?.startsWith("#/components/schemas/")) {
    const target = schemas[ref.slice("#/components/schemas/".length)];
    if (target) return { ...target, ...schema, $ref: undefined };
  }
  return schema;
}

function fieldOf(name: string, raw: JsonSchema, required: boolean): FieldMeta {
  const schema = resolve(raw);
  const types = Array.isArray(schema.type) ? schema.type : schema.type ? [schema.type] : [];
  const type = (types.find((t) => t !== "null") ?? "string") as FieldType;
  return {
    name,
    type,
    format: schema.format,
    required,
    nullable: types.includes("null"),
    maxLength: schema.maxLength,
    minLength: schema.minLength,
    description: (schema.description ?? "").trim(),
  };
}

function build(): CliEntity[] {
  return entityNames.map((entity) => {
    const def = entities[entity];
    const schema = resolve(schemas[entity] ?? {});
    const required = new Set(schema.required ?? []);
    const fields = Object.entries(schema.properties ?? {}).map(([name, s]) =>
      fieldOf(name, s, required.has(name)),
    );
    const example = schema.examples?.[0];
    return {
      entity,
      name: cliNameOf(entity, (def as { plural?: string }).plural),
      path: def.path,
      description: (schema.description ?? schema.title ?? entity).trim(),
      keys: def.keys,
      pathParams: def.pathParams,
      recordFieldForPathParam: def.recordFieldForPathParam as Record<string, string>,
      fields,
      byLowerName: new Map(fields.map((f) => [f.name.toLowerCase(), f])),
      example:
        example !== null && typeof example === "object"
          ? (example as Record<string, unknown>)
          : undefined,
    };
  });
}

/** Every entity with a batch endpoint, in the entity table's order. */
export const cliEntities: readonly CliEntity[] = build();

/** The entity for a command-line name, or undefined. */
export function findEntity(name: string): CliEntity | undefined {
  const lower = name.toLowerCase();
  return cliEntities.find((e) => e.name === lower || e.entity.toLowerCase() === lower);
}
