// Compares parsed seeds with the bundled spec and lists every difference.
import { HTTP_METHODS, resolveRef } from "@vbapi-sdk/tool-spec-model";
import type { SeedEndpoint, SeedField } from "./seeds.ts";

// biome-ignore lint/suspicious/noExplicitAny: the spec is walked as plain JSON
type Json = any;

const deref = (spec: Json, node: Json): Json => resolveRef(spec, node);

function schemaTypes(schema: Json): string[] {
  if (schema.type === undefined) return ["any", "null"];
  return (Array.isArray(schema.type) ? [...schema.type] : [schema.type]).sort();
}

/** The object schema whose properties are the children of `path` ("" is the root). */
function objectAt(spec: Json, root: Json, path: string): Json {
  let s = deref(spec, root);
  if (schemaTypes(s).includes("array")) s = deref(spec, s.items);
  for (const seg of path ? path.split(".") : []) {
    s = deref(spec, s?.properties?.[seg]);
    if (s && schemaTypes(s).includes("array")) s = deref(spec, s.items);
  }
  return s;
}

function compareFields(
  spec: Json,
  root: Json,
  fields: SeedField[],
  where: string,
  out: string[],
): void {
  const parents = new Set([""]);
  for (const f of fields) {
    const dot = f.path.lastIndexOf(".");
    parents.add(dot < 0 ? "" : f.path.slice(0, dot));
  }
  for (const parent of parents) {
    const obj = objectAt(spec, root, parent);
    const label = parent ? `${where} ${parent}` : where;
    if (!obj?.properties) {
      out.push(`${label}: the spec has no object schema here`);
      continue;
    }
    const seedNames = fields
      .filter((f) => f.path.slice(0, Math.max(0, f.path.lastIndexOf("."))) === parent)
      .map((f) => f.path.slice(parent ? parent.length + 1 : 0));
    for (const name of Object.keys(obj.properties)) {
      if (!seedNames.includes(name))
        out.push(`${label}: field \`${name}\` is in the spec but not in the seed`);
    }
    for (const name of seedNames) {
      const f = fields.find((x) => x.path === (parent ? `${parent}.${name}` : name)) as SeedField;
      const prop = deref(spec, obj.properties[name]);
      if (!prop) {
        out.push(`${where} ${f.path}: missing from the spec`);
        continue;
      }
      const got = schemaTypes(prop).join(",");
      const want = f.types.join(",");
      if (got !== want)
        out.push(`${where} ${f.path}: type is ${got} in the spec, ${want} in the seed`);
      const req = (obj.required ?? []).includes(name);
      if (req !== f.required) {
        out.push(
          `${where} ${f.path}: ${f.required ? "required" : "optional"} in the seed, ${req ? "required" : "optional"} in the spec`,
        );
      }
    }
  }
}

function compareParams(
  op: Json,
  spec: Json,
  seedParams: SeedField[],
  where: "header" | "path",
  out: string[],
) {
  const params = (op.parameters ?? [])
    .map((p: Json) => deref(spec, p))
    .filter((p: Json) => p.in === where);
  const names = params.map((p: Json) => p.name);
  for (const name of names) {
    if (!seedParams.some((s) => s.path === name))
      out.push(`${where} parameter \`${name}\` is in the spec but not in the seed`);
  }
  for (const s of seedParams) {
    const p = params.find((x: Json) => x.name === s.path);
    if (!p) {
      out.push(`${where} parameter \`${s.path}\` is missing from the spec`);
      continue;
    }
    const got = schemaTypes(deref(spec, p.schema)).join(",");
    if (got !== s.types.join(","))
      out.push(
        `${where} parameter \`${s.path}\`: type is ${got} in the spec, ${s.types.join(",")} in the seed`,
      );
    if (Boolean(p.required) !== s.required)
      out.push(
        `${where} parameter \`${s.path}\`: required is ${Boolean(p.required)} in the spec, ${s.required} in the seed`,
      );
  }
}

export function compareSeed(spec: Json, seed: SeedEndpoint): string[] {
  const out: string[] = [];
  const op = spec.paths?.[seed.path]?.[seed.method];
  if (!op) return [`${seed.method.toUpperCase()} ${seed.path} is missing from the spec`];
  compareParams(op, spec, seed.headers, "header", out);
  compareParams(op, spec, seed.pathParams, "path", out);

  const security: Json[] = op.security ?? spec.security ?? [];
  if (!security.some((req) => seed.security.every((s) => s in req))) {
    out.push(`security: no requirement names all of ${seed.security.join(", ")}`);
  }

  const body = deref(spec, op.requestBody)?.content?.[seed.requestMediaType]?.schema;
  if (!body) out.push(`request body: no ${seed.requestMediaType} content`);
  else {
    const items = deref(spec, body);
    if (!schemaTypes(items).includes("array")) out.push("request body: not an array of records");
    const entity = items.items?.$ref?.split("/").pop();
    if (entity !== seed.entity)
      out.push(`request body: items are ${entity}, the seed names ${seed.entity}`);
    compareFields(spec, body, seed.requestFields, "request", out);
  }

  const response = deref(spec, op.responses?.[seed.responseStatus]);
  const resBody = response?.content?.[seed.responseMediaType]?.schema;
  if (!resBody) out.push(`response ${seed.responseStatus}: no ${seed.responseMediaType} content`);
  else compareFields(spec, resBody, seed.responseFields, `response ${seed.responseStatus}`, out);
  return out.map((d) => `${seed.method.toUpperCase()} ${seed.path}: ${d}`);
}

/**
 * Operations in the spec that no seed describes, except those that name the public source they
 * were written from in `x-vbapi-source` (the login, from VBA's developer portal).
 */
export function unseededOperations(spec: Json, seeds: SeedEndpoint[]): string[] {
  const out: string[] = [];
  for (const [path, item] of Object.entries<Json>(spec.paths ?? {})) {
    for (const method of HTTP_METHODS) {
      const op = item[method];
      if (!op || typeof op["x-vbapi-source"] === "string") continue;
      if (!seeds.some((s) => s.path === path && s.method === method)) {
        out.push(`${method.toUpperCase()} ${path}: in the spec but described by no seed`);
      }
    }
  }
  return out;
}
