// What a document means to a client, version-neutral: one "fact" per path, operation, parameter,
// media type, status, header, security requirement and schema constraint. The 3.1 and 3.0
// spellings of the same thing give the same fact (type arrays and `nullable`, `const` and a
// one-value `enum`, numeric and boolean exclusive bounds), so comparing the fact sets of the two
// bundles shows any constraint the down-conversion dropped, added or changed.

const isObj = (x) => typeof x === "object" && x !== null && !Array.isArray(x);
const json = (x) => JSON.stringify(x);
const METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];
/** Keywords that document, not constrain. */
const DOCS = new Set([
  "description",
  "title",
  "summary",
  "example",
  "examples",
  "$comment",
  "externalDocs",
]);

/** One schema's own constraints (not its subschemas), normalised. */
function schemaFacts(s, at, out) {
  if (!isObj(s)) {
    out.set(`${at} schema`, json(s));
    return;
  }
  const types = s.type === undefined ? [] : Array.isArray(s.type) ? s.type : [s.type];
  const nullable = types.includes("null") || s.nullable === true;
  const real = types.filter((t) => t !== "null").sort();
  if (real.length) out.set(`${at} type`, real.join("|"));
  out.set(`${at} nullable`, String(nullable));
  const rest = { ...s };
  for (const k of ["type", "nullable", "properties", "items", "allOf", "anyOf", "oneOf", "not"])
    delete rest[k];
  if ("const" in rest) {
    rest.enum = [rest.const];
    delete rest.const;
  }
  for (const [k, bound] of [
    ["exclusiveMinimum", "minimum"],
    ["exclusiveMaximum", "maximum"],
  ]) {
    if (typeof rest[k] === "number") {
      rest[bound] = rest[k];
      rest[k] = true;
    }
    if (rest[k] === false) delete rest[k];
  }
  if (Array.isArray(rest.required)) rest.required = [...rest.required].sort();
  if (isObj(rest.additionalProperties)) {
    walkSchema(rest.additionalProperties, `${at} additionalProperties:`, out);
    rest.additionalProperties = "schema";
  }
  for (const [k, v] of Object.entries(rest)) {
    if (DOCS.has(k) || k.startsWith("x-")) continue;
    out.set(`${at} ${k}`, json(v));
  }
}

function walkSchema(s, at, out) {
  schemaFacts(s, at, out);
  if (!isObj(s)) return;
  if (isObj(s.properties))
    for (const [n, p] of Object.entries(s.properties)) walkSchema(p, `${at}.${n}`, out);
  if (s.items !== undefined) walkSchema(s.items, `${at}[]`, out);
  if (s.not !== undefined) walkSchema(s.not, `${at} not:`, out);
  for (const k of ["allOf", "anyOf", "oneOf"])
    if (Array.isArray(s[k])) {
      out.set(`${at} ${k}`, String(s[k].length));
      for (const [i, x] of s[k].entries()) walkSchema(x, `${at} ${k}[${i}]:`, out);
    }
}

function contentFacts(content, at, out) {
  if (!isObj(content)) return;
  for (const [media, mt] of Object.entries(content)) {
    out.set(`${at} ${media}`, "present");
    if (mt?.schema !== undefined) walkSchema(mt.schema, `${at} ${media} schema:`, out);
  }
}

function headersFacts(headers, at, out) {
  if (!isObj(headers)) return;
  for (const [name, h] of Object.entries(headers)) {
    const where = `${at} header ${name.toLowerCase()}`;
    if (isObj(h) && "$ref" in h) {
      out.set(where, h.$ref);
      continue;
    }
    out.set(`${where} required`, String(h?.required === true));
    if (h?.schema !== undefined) walkSchema(h.schema, `${where} schema:`, out);
  }
}

function parameterFacts(p, at, out) {
  if (isObj(p) && "$ref" in p) {
    out.set(`${at} parameter ${p.$ref}`, "present");
    return;
  }
  const where = `${at} parameter ${p?.in}:${p?.name}`;
  out.set(`${where} required`, String(p?.required === true));
  for (const k of ["style", "explode", "allowEmptyValue", "deprecated"])
    if (p?.[k] !== undefined) out.set(`${where} ${k}`, json(p[k]));
  if (p?.schema !== undefined) walkSchema(p.schema, `${where} schema:`, out);
  contentFacts(p?.content, where, out);
}

function responseFacts(r, at, out) {
  if (isObj(r) && "$ref" in r) {
    out.set(at, r.$ref);
    return;
  }
  out.set(at, "present");
  headersFacts(r?.headers, at, out);
  contentFacts(r?.content, at, out);
}

/** Every fact of the document, keyed by where it holds. */
export function facts(doc) {
  const out = new Map();
  out.set("security", json(doc.security ?? []));
  for (const [path, item] of Object.entries(isObj(doc.paths) ? doc.paths : {})) {
    out.set(`path ${path}`, "present");
    if (!isObj(item)) continue;
    for (const p of Array.isArray(item.parameters) ? item.parameters : [])
      parameterFacts(p, `path ${path}`, out);
    for (const method of METHODS) {
      const op = item[method];
      if (!isObj(op)) continue;
      const at = `${method.toUpperCase()} ${path}`;
      out.set(`${at} operationId`, String(op.operationId));
      out.set(`${at} deprecated`, String(op.deprecated === true));
      out.set(`${at} security`, json(op.security ?? "inherited"));
      for (const p of Array.isArray(op.parameters) ? op.parameters : []) parameterFacts(p, at, out);
      if (op.requestBody !== undefined) {
        const rb = op.requestBody;
        if (isObj(rb) && "$ref" in rb) out.set(`${at} requestBody`, rb.$ref);
        else {
          out.set(`${at} requestBody required`, String(rb?.required === true));
          contentFacts(rb?.content, `${at} requestBody`, out);
        }
      }
      for (const [status, r] of Object.entries(isObj(op.responses) ? op.responses : {}))
        responseFacts(r, `${at} response ${status}`, out);
    }
  }
  const comp = isObj(doc.components) ? doc.components : {};
  for (const [name, s] of Object.entries(isObj(comp.schemas) ? comp.schemas : {}))
    walkSchema(s, `schema ${name}:`, out);
  for (const [name, p] of Object.entries(isObj(comp.parameters) ? comp.parameters : {}))
    parameterFacts(p, `components.parameters.${name}`, out);
  for (const [name, r] of Object.entries(isObj(comp.responses) ? comp.responses : {}))
    responseFacts(r, `components.responses.${name}`, out);
  headersFacts(comp.headers, "components.headers", out);
  for (const [name, rb] of Object.entries(isObj(comp.requestBodies) ? comp.requestBodies : {})) {
    out.set(`components.requestBodies.${name} required`, String(rb?.required === true));
    contentFacts(rb?.content, `components.requestBodies.${name}`, out);
  }
  for (const [name, s] of Object.entries(isObj(comp.securitySchemes) ? comp.securitySchemes : {})) {
    const { description: _, ...rest } = isObj(s) ? s : {};
    out.set(`securityScheme ${name}`, json(rest));
  }
  return out;
}

/** The facts that differ between two documents: "where: a → b" lines, empty when they mean the same. */
export function meaningDiff(a, b) {
  const [fa, fb] = [facts(a), facts(b)];
  const lines = [];
  for (const k of new Set([...fa.keys(), ...fb.keys()])) {
    const [x, y] = [fa.get(k), fb.get(k)];
    if (x !== y) lines.push(`${k}: ${x ?? "(absent)"} → ${y ?? "(absent)"}`);
  }
  return lines;
}
