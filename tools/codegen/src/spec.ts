// Reads the bundled OpenAPI description and finds the batch entities in it.
// An "entity" is the item schema of a request body of the form `type: array, items: $ref`.

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export interface EntityInfo {
  /** Schema name, e.g. "Tolerance". */
  name: string;
  operationId: string;
  method: string;
  path: string;
  /** Path parameter names, in path order. */
  pathParams: string[];
  /** Resolved path parameter objects, by name. */
  pathParamObjects: Record<string, JsonObject>;
  /** Key fields from `x-vbapi-key`. */
  keys: string[];
  /** Path parameter name -> record field that must carry the same value (`x-vbapi-record-field`). */
  recordFieldForPathParam: Record<string, string>;
  schema: JsonObject;
}

const METHODS = ["get", "put", "post", "delete", "patch"] as const;

export function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function resolveRef(spec: JsonObject, value: Json | undefined): Json | undefined {
  let current = value;
  for (let depth = 0; isObject(current) && typeof current.$ref === "string"; depth++) {
    if (depth > 20) throw new Error(`codegen: $ref cycle at ${current.$ref}`);
    const ref = current.$ref;
    if (!ref.startsWith("#/"))
      throw new Error(`codegen: only local $refs are supported, got ${ref}`);
    let target: Json | undefined = spec;
    for (const raw of ref.slice(2).split("/")) {
      const part = raw.replace(/~1/g, "/").replace(/~0/g, "~");
      target = isObject(target) ? target[part] : undefined;
    }
    if (target === undefined) throw new Error(`codegen: unresolved $ref ${ref}`);
    current = target;
  }
  return current;
}

function schemaNameOfRef(ref: string): string {
  const prefix = "#/components/schemas/";
  if (!ref.startsWith(prefix))
    throw new Error(`codegen: request items must $ref a component schema, got ${ref}`);
  return ref.slice(prefix.length);
}

export function findEntities(spec: JsonObject): EntityInfo[] {
  const paths = spec.paths;
  if (!isObject(paths)) throw new Error("codegen: the spec has no paths");
  const schemas =
    isObject(spec.components) && isObject(spec.components.schemas) ? spec.components.schemas : {};
  const found: EntityInfo[] = [];
  for (const [path, item] of Object.entries(paths)) {
    if (!isObject(item)) continue;
    for (const method of METHODS) {
      const op = item[method];
      if (!isObject(op)) continue;
      const body = resolveRef(spec, op.requestBody);
      if (!isObject(body) || !isObject(body.content)) continue;
      const media = body.content["application/json"];
      const bodySchema = isObject(media) ? media.schema : undefined;
      if (!isObject(bodySchema) || bodySchema.type !== "array" || !isObject(bodySchema.items))
        continue;
      const ref = bodySchema.items.$ref;
      if (typeof ref !== "string") continue;
      const name = schemaNameOfRef(ref);
      const schema = schemas[name];
      if (!isObject(schema)) throw new Error(`codegen: schema ${name} not found`);
      if (typeof op.operationId !== "string")
        throw new Error(`codegen: ${method.toUpperCase()} ${path} has no operationId`);

      const keys = schema["x-vbapi-key"];
      if (!Array.isArray(keys) || keys.length === 0 || !keys.every((k) => typeof k === "string")) {
        throw new Error(`codegen: schema ${name} needs a non-empty string array x-vbapi-key`);
      }
      const required = Array.isArray(schema.required) ? schema.required : [];
      for (const key of keys as string[]) {
        if (!isObject(schema.properties) || !(key in schema.properties)) {
          throw new Error(`codegen: ${name}: key field ${key} is not a property`);
        }
        if (!required.includes(key))
          throw new Error(`codegen: ${name}: key field ${key} must be required`);
      }

      const params = [...asArray(item.parameters), ...asArray(op.parameters)]
        .map((p) => resolveRef(spec, p))
        .filter(isObject);
      const pathParamObjects: Record<string, JsonObject> = {};
      const recordFieldForPathParam: Record<string, string> = {};
      for (const p of params) {
        if (p.in !== "path" || typeof p.name !== "string") continue;
        pathParamObjects[p.name] = p;
        const field = p["x-vbapi-record-field"];
        if (typeof field === "string") {
          if (!isObject(schema.properties) || !(field in schema.properties)) {
            throw new Error(`codegen: ${name}: x-vbapi-record-field ${field} is not a property`);
          }
          recordFieldForPathParam[p.name] = field;
        }
      }
      const pathParams = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1] as string);
      for (const p of pathParams) {
        if (!pathParamObjects[p])
          throw new Error(`codegen: ${path}: path parameter ${p} is not declared`);
      }
      if (found.some((e) => e.name === name)) {
        throw new Error(`codegen: schema ${name} is the body of more than one batch operation`);
      }
      found.push({
        name,
        operationId: op.operationId,
        method,
        path,
        pathParams,
        pathParamObjects,
        keys: keys as string[],
        recordFieldForPathParam,
        schema,
      });
    }
  }
  if (found.length === 0) throw new Error("codegen: no batch operations found");
  return found.sort((a, b) => a.name.localeCompare(b.name));
}

function asArray(value: Json | undefined): Json[] {
  return Array.isArray(value) ? value : [];
}
