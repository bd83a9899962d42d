// Finds the batch operations of a bundled OpenAPI document: one per entity. A batch operation is
// one whose `application/json` request body is `type: array` with `items: { $ref:
// "#/components/schemas/<Entity>" }`. Every other operation (a login, a GET, a body that is not an
// array of references) is not a batch operation and is left alone. A batch operation must be
// complete, or discovery fails naming what is missing: an operationId, the entity's `x-vbapi-key`
// (required properties), every `{param}` of the path declared, and each `x-vbapi-record-field`
// naming a property of the entity. The entity's name and its path parameters' names must be
// identifiers (letters, digits and _, not a digit first): code is named after them.
import { asArray, isObject, type Json, type JsonObject, SpecError } from "./json.ts";
import { resolveRef } from "./refs.ts";

export const HTTP_METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];
const SCHEMAS = "#/components/schemas/";

/** A parameter of an operation, its object resolved (its schema may still hold `$ref`s). */
export interface OperationParameter {
  name: string;
  in: string;
  required: boolean;
  /** `x-vbapi-record-field`: the record field that must carry this (path) parameter's value. */
  recordField: string | undefined;
  object: JsonObject;
}

/** One batch operation, described by the spec alone. */
export interface BatchOperation {
  /** The entity: the component schema name of the body's items, e.g. "Tolerance". */
  entity: string;
  operationId: string;
  /** Lower-case HTTP method, as the spec's path item keys it. */
  method: string;
  /** Path template, e.g. "/provider-credentialing/{providerCredKey}/services-batch". */
  path: string;
  /** The path parameters, in the order they appear in the path. */
  pathParams: OperationParameter[];
  /** Every parameter (the path item's and the operation's, the operation's winning). */
  parameters: OperationParameter[];
  /** Key fields, from the entity schema's `x-vbapi-key`. */
  keys: string[];
  /** Path parameter name → record field that must carry the same value. */
  recordFieldForPathParam: Record<string, string>;
  /** The entity schema (`#/components/schemas/<entity>`), as written. */
  schema: JsonObject;
  /** The request body's `application/json` schema (the array), as written. */
  bodySchema: JsonObject;
  /** The operation object, as written. */
  operation: JsonObject;
  /** `x-vbapi-package` of the operation: the domain package that exports it (codegen requires it). */
  package: string | undefined;
  /** The plural in function names (`upsertAll<Plural>`): the schema's `x-vbapi-plural`, else entity + "s". */
  plural: string;
  /** The record type's name in its domain package: the schema's `x-vbapi-type-name`, else the entity. */
  typeName: string;
  /** The operation's summary and description (doc comments are made from them). */
  summary: string | undefined;
  description: string | undefined;
}

const IDENTIFIER = /^[A-Z][A-Za-z0-9]*$/;
/** A name code can declare: the entity schema's name, a path parameter's. */
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The entity a request body names, or undefined when it is not `type: array, items: $ref`. */
function batchItemsRef(
  doc: Json,
  operation: JsonObject,
): { ref: string; body: JsonObject } | undefined {
  const requestBody = resolveRef(doc, operation.requestBody);
  if (!isObject(requestBody) || !isObject(requestBody.content)) return undefined;
  const media = resolveRef(doc, requestBody.content["application/json"]);
  const body = isObject(media) ? resolveRef(doc, media.schema) : undefined;
  if (!isObject(body) || body.type !== "array" || !isObject(body.items)) return undefined;
  const ref = body.items.$ref;
  return typeof ref === "string" ? { ref, body } : undefined;
}

function parametersOf(
  doc: Json,
  pathItem: JsonObject,
  operation: JsonObject,
): OperationParameter[] {
  const byKey = new Map<string, OperationParameter>();
  for (const raw of [...asArray(pathItem.parameters), ...asArray(operation.parameters)]) {
    const p = resolveRef(doc, raw);
    if (!isObject(p) || typeof p.name !== "string" || typeof p.in !== "string") continue;
    const field = p["x-vbapi-record-field"];
    byKey.set(`${p.in} ${p.name}`, {
      name: p.name,
      in: p.in,
      required: p.required === true,
      recordField: typeof field === "string" ? field : undefined,
      object: p,
    });
  }
  return [...byKey.values()];
}

function describe(
  doc: Json,
  path: string,
  method: string,
  pathItem: JsonObject,
  operation: JsonObject,
  ref: string,
  body: JsonObject,
): BatchOperation {
  const where = `${method.toUpperCase()} ${path}`;
  if (!ref.startsWith(SCHEMAS))
    throw new SpecError(`${where}: the request items must $ref a component schema, got ${ref}`);
  const entity = ref.slice(SCHEMAS.length);
  const schema = resolveRef(doc, { $ref: ref });
  if (!isObject(schema)) throw new SpecError(`${where}: schema ${entity} is not an object`);
  if (typeof operation.operationId !== "string") throw new SpecError(`${where} has no operationId`);
  const named = `operation ${operation.operationId} (${where})`;
  if (!NAME.test(entity))
    throw new SpecError(
      `${named}: the entity schema name "${entity}" is not an identifier (letters, digits and _, not a digit first); the tools name types and functions after it`,
    );

  const keys = schema["x-vbapi-key"];
  if (!Array.isArray(keys) || keys.length === 0 || !keys.every((k) => typeof k === "string"))
    throw new SpecError(`schema ${entity} needs a non-empty string array x-vbapi-key`);
  const properties = isObject(schema.properties) ? schema.properties : {};
  const required = asArray(schema.required);
  for (const key of keys) {
    if (!Object.hasOwn(properties, key))
      throw new SpecError(`${entity}: key field ${key} is not a property`);
    if (!required.includes(key))
      throw new SpecError(`${entity}: key field ${key} must be required`);
  }

  const parameters = parametersOf(doc, pathItem, operation);
  const recordFieldForPathParam: Record<string, string> = {};
  for (const p of parameters) {
    if (p.in !== "path" || p.recordField === undefined) continue;
    if (!Object.hasOwn(properties, p.recordField))
      throw new SpecError(`${entity}: x-vbapi-record-field ${p.recordField} is not a property`);
    recordFieldForPathParam[p.name] = p.recordField;
  }
  const pathParams = [...path.matchAll(/\{([^}]+)\}/g)].map(([, name = ""]) => {
    if (!NAME.test(name))
      throw new SpecError(
        `${named}: path parameter "${name}" is not an identifier (letters, digits and _, not a digit first); the generated functions take it as a parameter of that name`,
      );
    const p = parameters.find((q) => q.in === "path" && q.name === name);
    if (!p) throw new SpecError(`${path}: path parameter ${name} is not declared`);
    return p;
  });
  const pkg = operation["x-vbapi-package"];
  if (pkg !== undefined && (typeof pkg !== "string" || !/^[a-z][a-z0-9-]*$/.test(pkg)))
    throw new SpecError(
      `${where}: x-vbapi-package must be a package name (lower case, e.g. billing)`,
    );
  const plural = schema["x-vbapi-plural"] ?? `${entity}s`;
  const typeName = schema["x-vbapi-type-name"] ?? entity;
  for (const [name, value] of [
    ["x-vbapi-plural", plural],
    ["x-vbapi-type-name", typeName],
  ] as const) {
    if (typeof value !== "string" || !IDENTIFIER.test(value))
      throw new SpecError(`${entity}: ${name} must be an identifier in PascalCase`);
  }
  return {
    entity,
    operationId: operation.operationId,
    package: pkg,
    plural: plural as string,
    typeName: typeName as string,
    summary: typeof operation.summary === "string" ? operation.summary : undefined,
    description: typeof operation.description === "string" ? operation.description : undefined,
    method,
    path,
    pathParams,
    parameters,
    keys: keys as string[],
    recordFieldForPathParam,
    schema,
    bodySchema: body,
    operation,
  };
}

/** The batch operations of the document, sorted by entity name. */
export function findBatchOperations(doc: Json): BatchOperation[] {
  if (!isObject(doc) || !isObject(doc.paths)) throw new SpecError("the document has no paths");
  const found: BatchOperation[] = [];
  for (const [path, rawItem] of Object.entries(doc.paths)) {
    const pathItem = resolveRef(doc, rawItem);
    if (!isObject(pathItem)) continue;
    for (const method of HTTP_METHODS) {
      const operation = pathItem[method];
      if (!isObject(operation)) continue;
      const batch = batchItemsRef(doc, operation);
      if (!batch) continue;
      const op = describe(doc, path, method, pathItem, operation, batch.ref, batch.body);
      const twin = found.find((e) => e.entity === op.entity);
      if (twin) {
        throw new SpecError(
          `schema ${op.entity} is the body of more than one batch operation (${twin.method.toUpperCase()} ${twin.path}, ${method.toUpperCase()} ${path})`,
        );
      }
      found.push(op);
    }
  }
  return found.sort((a, b) => a.entity.localeCompare(b.entity));
}
