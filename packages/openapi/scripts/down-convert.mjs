// OpenAPI 3.1 -> 3.0.3 with @apiture/openapi-down-convert (type arrays -> nullable, schema
// `examples` -> `example`, `const` -> `enum`, license identifier dropped), plus what it leaves:
// `info.summary` is dropped (docs only) and the license gets the SPDX URL 3.0 wants.
//
// The converter silently deletes some 3.1 keywords (patternProperties, propertyNames,
// unevaluatedProperties…) and leaves others that 3.0 does not know. Both would lose a constraint
// without a word, so any schema keyword outside the table below is refused before converting,
// with the JSON pointer of every place it occurs.
import { createRequire } from "node:module";

const { Converter } = createRequire(import.meta.url)("@apiture/openapi-down-convert");

/** Schema keywords that mean the same in 3.0 after conversion (x-* extensions always pass). */
const CONVERTIBLE = new Set([
  // 3.0 Schema Object keywords
  "title",
  "multipleOf",
  "maximum",
  "minimum",
  "maxLength",
  "minLength",
  "pattern",
  "maxItems",
  "minItems",
  "uniqueItems",
  "maxProperties",
  "minProperties",
  "required",
  "enum",
  "type",
  "allOf",
  "oneOf",
  "anyOf",
  "not",
  "items",
  "properties",
  "additionalProperties",
  "description",
  "format",
  "default",
  "nullable",
  "discriminator",
  "readOnly",
  "writeOnly",
  "xml",
  "externalDocs",
  "example",
  "deprecated",
  "$ref",
  // 3.1 keywords the converter rewrites faithfully
  "const",
  "examples",
  "$comment",
]);
const SUBSCHEMA_MAPS = ["properties"];
const SUBSCHEMA_LISTS = ["allOf", "oneOf", "anyOf"];
const SUBSCHEMAS = ["items", "not", "additionalProperties"];

const isObj = (x) => typeof x === "object" && x !== null && !Array.isArray(x);
const ptr = (parts) =>
  `#/${parts.map((p) => String(p).replace(/~/g, "~0").replace(/\//g, "~1")).join("/")}`;

/** Every schema of the document with its location: components, parameters, bodies, headers. */
export function* schemasOf(doc) {
  function* walk(node, at) {
    if (!isObj(node)) return;
    yield [node, at];
    for (const k of SUBSCHEMA_MAPS)
      if (isObj(node[k]))
        for (const [n, s] of Object.entries(node[k])) yield* walk(s, [...at, k, n]);
    for (const k of SUBSCHEMA_LISTS)
      if (Array.isArray(node[k]))
        for (const [i, s] of node[k].entries()) yield* walk(s, [...at, k, i]);
    for (const k of SUBSCHEMAS) if (isObj(node[k])) yield* walk(node[k], [...at, k]);
  }
  function* content(c, at) {
    if (isObj(c))
      for (const [m, mt] of Object.entries(c)) yield* walk(mt?.schema, [...at, m, "schema"]);
  }
  function* withSchema(map, at) {
    if (!isObj(map)) return;
    for (const [n, x] of Object.entries(map)) {
      yield* walk(x?.schema, [...at, n, "schema"]);
      yield* content(x?.content, [...at, n, "content"]);
    }
  }
  const comp = isObj(doc.components) ? doc.components : {};
  if (isObj(comp.schemas))
    for (const [n, s] of Object.entries(comp.schemas)) yield* walk(s, ["components", "schemas", n]);
  for (const kind of ["parameters", "headers"]) yield* withSchema(comp[kind], ["components", kind]);
  for (const kind of ["requestBodies", "responses"])
    if (isObj(comp[kind]))
      for (const [n, x] of Object.entries(comp[kind])) {
        yield* content(x?.content, ["components", kind, n, "content"]);
        yield* withSchema(x?.headers, ["components", kind, n, "headers"]);
      }
  for (const [path, item] of Object.entries(isObj(doc.paths) ? doc.paths : {})) {
    if (!isObj(item)) continue;
    for (const [method, op] of Object.entries(item)) {
      const at = ["paths", path, method];
      if (method === "parameters") yield* withSchema(Object.assign({}, op), at);
      if (!isObj(op)) continue;
      if (Array.isArray(op.parameters))
        yield* withSchema({ ...op.parameters }, [...at, "parameters"]);
      yield* content(op.requestBody?.content, [...at, "requestBody", "content"]);
      for (const [status, r] of Object.entries(isObj(op.responses) ? op.responses : {})) {
        yield* content(r?.content, [...at, "responses", status, "content"]);
        yield* withSchema(r?.headers, [...at, "responses", status, "headers"]);
      }
    }
  }
}

/** Problems that would make the conversion lossy: one message per keyword and place. */
export function unconvertible(doc) {
  const problems = [];
  if (isObj(doc.webhooks) && Object.keys(doc.webhooks).length)
    problems.push("#/webhooks: webhooks do not exist in OpenAPI 3.0");
  if (isObj(doc.components?.pathItems)) problems.push("#/components/pathItems: not in OpenAPI 3.0");
  for (const [schema, at] of schemasOf(doc)) {
    for (const k of Object.keys(schema)) {
      if (k.startsWith("x-") || CONVERTIBLE.has(k)) continue;
      problems.push(`${ptr([...at, k])}: 3.1 keyword \`${k}\` has no OpenAPI 3.0 equivalent`);
    }
    const t = schema.type;
    if (Array.isArray(t)) {
      const real = t.filter((x) => x !== "null");
      if (real.length !== 1)
        problems.push(
          `${ptr([...at, "type"])}: type ${JSON.stringify(t)} cannot be expressed in 3.0 (one type, optionally with null)`,
        );
    } else if (t === "null") problems.push(`${ptr([...at, "type"])}: type "null" alone is not 3.0`);
    // the converter only rewrites a truthy const (`if (schema.const)`): 0, false and "" would stay
    if ("const" in schema && !schema.const)
      problems.push(
        `${ptr([...at, "const"])}: const ${JSON.stringify(schema.const)} is not converted`,
      );
    if ("$ref" in schema && Object.keys(schema).some((k) => k !== "$ref" && !isDocKey(k)))
      problems.push(`${ptr(at)}: $ref with sibling constraints is ignored by OpenAPI 3.0 tools`);
    for (const k of ["exclusiveMinimum", "exclusiveMaximum"])
      if (typeof schema[k] === "number")
        problems.push(`${ptr([...at, k])}: numeric ${k} (3.1) is not converted`);
  }
  return problems;
}
const isDocKey = (k) => k === "description" || k === "summary" || k.startsWith("x-");

/** The 3.0.3 document; throws with every place that cannot be converted without loss. */
export function toOpenApi30(doc31) {
  if (!/^3\.1\./.test(String(doc31.openapi)))
    throw new Error(
      `down-convert: expected an OpenAPI 3.1 document, got openapi: ${doc31.openapi}`,
    );
  const problems = unconvertible(doc31);
  if (problems.length)
    throw new Error(
      `down-convert: the 3.1 bundle uses ${problems.length} construct(s) OpenAPI 3.0 cannot express:\n  ${problems.join("\n  ")}`,
    );
  const doc = new Converter(structuredClone(doc31), { verbose: false }).convert();
  if (isObj(doc.info)) {
    delete doc.info.summary;
    const license = doc.info.license;
    const id = doc31.info?.license?.identifier;
    if (isObj(license) && id && !license.url) license.url = `https://spdx.org/licenses/${id}.html`;
  }
  return doc;
}
