// Compares two bundled OpenAPI 3.1 documents and classifies every difference.
//
// Direction matters for schemas: a request schema that accepts less breaks the clients that send
// it, a response schema that may return more (or differently typed) data breaks the clients that
// read it. The schema rules below are a table: each entry names the keywords it handles and
// reports changes to them; any other keyword that changes is reported by the catch-all at the end.
import { deref, isObj, type Obj, reachableSchemas } from "./refs.ts";

export type Severity = "breaking" | "non-breaking" | "docs";
export interface Change {
  severity: Severity;
  /** Where, e.g. "PUT /tolerances-batch › request › tolerance1". */
  location: string;
  /** What, e.g. "type narrowed from number|null to number". */
  message: string;
  /** The rule that fired, e.g. "type" or "operation-removed", for tests and filtering. */
  rule: string;
}

type Dir = "request" | "response";
interface Ctx {
  before: Obj;
  after: Obj;
  out: Change[];
}
interface SchemaCtx extends Ctx {
  dir: Dir;
  where: string;
  stack: Set<string>;
}

const METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];
const DOC_KEYS = new Set([
  "description",
  "summary",
  "title",
  "example",
  "examples",
  "externalDocs",
  "$comment",
]);
const json = (x: unknown) => JSON.stringify(x);
const same = (x: unknown, y: unknown) => json(x) === json(y);
const list = (xs: unknown[]) => xs.map((x) => (typeof x === "string" ? x : json(x))).join(", ");

function emit(c: Ctx, severity: Severity, location: string, message: string, rule: string): void {
  c.out.push({ severity, location, message, rule });
}

/** Docs-only keywords (description, examples…) and x- extensions. */
function compareDocs(
  c: Ctx,
  b: Obj,
  a: Obj,
  where: string,
  keys: Iterable<string> = DOC_KEYS,
): void {
  for (const k of keys) {
    if (same(b[k], a[k])) continue;
    const what = b[k] === undefined ? "added" : a[k] === undefined ? "removed" : "changed";
    emit(c, "docs", where, `${k} ${what}`, "docs");
  }
}
const extensionKeys = (b: Obj, a: Obj) =>
  [...new Set([...Object.keys(b), ...Object.keys(a)])].filter((k) => k.startsWith("x-"));

/** Reports keys outside `handled` whose values differ (extensions as non-breaking). */
function catchAll(
  c: Ctx,
  b: Obj,
  a: Obj,
  where: string,
  handled: Set<string>,
  severity: Severity,
): void {
  for (const k of new Set([...Object.keys(b), ...Object.keys(a)])) {
    if (handled.has(k) || DOC_KEYS.has(k) || same(b[k], a[k])) continue;
    const known = k.startsWith("x-") || IGNORED_SCHEMA_KEYS.has(k);
    const sev = known ? "non-breaking" : severity;
    const note =
      sev === "breaking" ? " (not classified by spec-diff: treated as breaking, review it)" : "";
    emit(
      c,
      sev,
      where,
      `${k} changed from ${json(b[k]) ?? "none"} to ${json(a[k]) ?? "none"}${note}`,
      "other",
    );
  }
}
const IGNORED_SCHEMA_KEYS = new Set([
  "xml",
  "discriminator",
  "$schema",
  "$id",
  "$anchor",
  "$defs",
  "contentEncoding",
]);

// ——— schemas ———

/** "data[].id"; leading array items of a body are left out: "tolerance1", not "[].tolerance1". */
function fieldPath(path: string[]): string {
  let s = "";
  for (const seg of path) {
    if (seg === "[]") s += "[]";
    else if (seg.startsWith("(")) s += `${s ? " " : ""}${seg}`;
    else s += `${s ? "." : ""}${seg}`;
  }
  return s.startsWith("[].") ? s.slice(3) : s;
}
const at = (c: SchemaCtx, path: string[]) => {
  const f = fieldPath(path);
  return f ? `${c.where} › ${f}` : c.where;
};

/** A narrower schema breaks senders (requests); a wider one breaks readers (responses). */
const bySide = (c: SchemaCtx, narrowed: boolean): Severity =>
  narrowed === (c.dir === "request") ? "breaking" : "non-breaking";

function typeSet(s: Obj): string[] | undefined {
  const t =
    typeof s.type === "string" ? [s.type] : Array.isArray(s.type) ? s.type.map(String) : undefined;
  return t && s.nullable === true && !t.includes("null") ? [...t, "null"] : t;
}
const accepts = (set: string[] | undefined, t: string) =>
  !set || set.includes(t) || (t === "integer" && set.includes("number"));
const showTypes = (t: string[] | undefined) => (t ? t.join("|") : "any");

/** enum, or const as a one-value enum; undefined when the values are unconstrained. */
const enumOf = (s: Obj): unknown[] | undefined =>
  Array.isArray(s.enum) ? s.enum : "const" in s ? [s.const] : undefined;

/** Format changes that accept more values. */
const FORMAT_WIDENS: Record<string, string[]> = { int32: ["int64"], float: ["double"] };

const UPPER_LIMITS = ["maxLength", "maxItems", "maxProperties", "maximum", "exclusiveMaximum"];
const LOWER_LIMITS = ["minLength", "minItems", "minProperties", "minimum", "exclusiveMinimum"];

function limitRule(key: string, upper: boolean): SchemaRule {
  return {
    keys: [key],
    check(c, b, a, path) {
      const [bv, av] = [b[key], a[key]];
      if (same(bv, av)) return;
      if (
        (bv !== undefined && typeof bv !== "number") ||
        (av !== undefined && typeof av !== "number")
      ) {
        emit(
          c,
          bySide(c, true),
          at(c, path),
          `${key} changed from ${json(bv)} to ${json(av)}`,
          "limit",
        );
        return;
      }
      const [up, down] = upper ? ["loosened", "tightened"] : ["lowered", "raised"];
      if (bv === undefined) emit(c, bySide(c, true), at(c, path), `new ${key} ${av}`, "limit");
      else if (av === undefined)
        emit(c, bySide(c, false), at(c, path), `${key} ${bv} removed`, "limit");
      else {
        const narrowed = upper ? av < bv : av > bv;
        emit(
          c,
          bySide(c, narrowed),
          at(c, path),
          `${key} ${narrowed ? down : up} from ${bv} to ${av}`,
          "limit",
        );
      }
    },
  };
}

interface SchemaRule {
  keys: string[];
  check(c: SchemaCtx, b: Obj, a: Obj, path: string[]): void;
}

const SCHEMA_RULES: SchemaRule[] = [
  {
    keys: ["type", "nullable"],
    check(c, b, a, path) {
      const [bt, aT] = [typeSet(b), typeSet(a)];
      const lost = bt ? bt.filter((t) => !accepts(aT, t)) : aT ? ["any"] : [];
      const gained = aT ? aT.filter((t) => !accepts(bt, t)) : bt ? ["any"] : [];
      if (!lost.length && !gained.length) return;
      const from = `from ${showTypes(bt)} to ${showTypes(aT)}`;
      // Generated response types change with any type change, so responses break either way.
      if (c.dir === "response") emit(c, "breaking", at(c, path), `type changed ${from}`, "type");
      else if (lost.length)
        emit(
          c,
          "breaking",
          at(c, path),
          `type ${gained.length ? "changed" : "narrowed"} ${from}`,
          "type",
        );
      else emit(c, "non-breaking", at(c, path), `type widened ${from}`, "type");
    },
  },
  {
    keys: ["format"],
    check(c, b, a, path) {
      const [bf, af] = [b.format, a.format];
      if (same(bf, af)) return;
      if (c.dir === "response") {
        emit(
          c,
          "breaking",
          at(c, path),
          `format changed from ${bf ?? "none"} to ${af ?? "none"}`,
          "format",
        );
      } else if (af === undefined) {
        emit(c, "non-breaking", at(c, path), `format ${bf} removed`, "format");
      } else if (bf === undefined) {
        emit(c, "breaking", at(c, path), `format narrowed: ${af} added`, "format");
      } else {
        const widened = FORMAT_WIDENS[String(bf)]?.includes(String(af));
        const how = widened ? "widened" : "narrowed";
        emit(
          c,
          widened ? "non-breaking" : "breaking",
          at(c, path),
          `format ${how} from ${bf} to ${af}`,
          "format",
        );
      }
    },
  },
  ...UPPER_LIMITS.map((k) => limitRule(k, true)),
  ...LOWER_LIMITS.map((k) => limitRule(k, false)),
  {
    keys: ["multipleOf", "uniqueItems", "pattern"],
    check(c, b, a, path) {
      for (const k of this.keys) {
        if (same(b[k], a[k]) || (k === "uniqueItems" && !b[k] && !a[k])) continue;
        const narrowed = a[k] !== undefined && a[k] !== false;
        const what =
          b[k] === undefined || b[k] === false ? "added" : narrowed ? "changed" : "removed";
        const value = what === "removed" ? json(b[k]) : json(a[k]);
        emit(c, bySide(c, narrowed), at(c, path), `${k} ${value} ${what}`, k);
      }
    },
  },
  {
    keys: ["enum", "const"],
    check(c, b, a, path) {
      const [be, ae] = [enumOf(b), enumOf(a)];
      if (same(be, ae)) return;
      if (!be)
        return emit(
          c,
          bySide(c, true),
          at(c, path),
          `values restricted to ${list(ae ?? [])}`,
          "enum",
        );
      if (!ae) return emit(c, bySide(c, false), at(c, path), `enum ${list(be)} removed`, "enum");
      const removed = be.filter((v) => !ae.some((w) => same(v, w)));
      const added = ae.filter((v) => !be.some((w) => same(v, w)));
      if (removed.length)
        emit(c, bySide(c, true), at(c, path), `enum value(s) removed: ${list(removed)}`, "enum");
      if (added.length)
        emit(c, bySide(c, false), at(c, path), `enum value(s) added: ${list(added)}`, "enum");
    },
  },
  { keys: ["properties", "required", "readOnly", "writeOnly"], check: compareProperties },
  {
    keys: ["additionalProperties"],
    check(c, b, a, path) {
      // false < a schema < true or absent, by how much they accept.
      const rank = (x: unknown) => (x === false ? 0 : isObj(x) ? 1 : 2);
      const [br, ar] = [rank(b.additionalProperties), rank(a.additionalProperties)];
      if (br === 1 && ar === 1)
        return compareSchema(c, b.additionalProperties, a.additionalProperties, [...path, "*"]);
      if (br === ar) return;
      const show = (x: unknown) => (x === undefined ? "absent" : isObj(x) ? "a schema" : json(x));
      const msg = `additionalProperties changed from ${show(b.additionalProperties)} to ${show(a.additionalProperties)}`;
      // Readers of a response are not hurt by more or fewer unknown fields being allowed.
      emit(
        c,
        c.dir === "request" ? bySide(c, ar < br) : "non-breaking",
        at(c, path),
        msg,
        "additionalProperties",
      );
    },
  },
  {
    keys: ["items"],
    check(c, b, a, path) {
      if (b.items !== undefined && a.items !== undefined)
        return compareSchema(c, b.items, a.items, [...path, "[]"]);
      if (b.items === a.items) return;
      emit(
        c,
        bySide(c, a.items !== undefined),
        at(c, path),
        `items schema ${b.items ? "removed" : "added"}`,
        "items",
      );
    },
  },
  {
    keys: ["allOf", "anyOf", "oneOf"],
    check(c, b, a, path) {
      for (const k of this.keys) {
        const [bl, al] = [b[k], a[k]];
        if (bl === undefined && al === undefined) continue;
        if (!Array.isArray(bl) || !Array.isArray(al)) {
          emit(
            c,
            bySide(c, bl === undefined),
            at(c, path),
            `${k} ${bl === undefined ? "added" : "removed"}`,
            k,
          );
          continue;
        }
        for (let i = 0; i < Math.min(bl.length, al.length); i++)
          compareSchema(c, bl[i], al[i], [...path, `(${k} ${i + 1})`]);
        if (bl.length === al.length) continue;
        const narrowed = k === "allOf" ? al.length > bl.length : al.length < bl.length;
        emit(
          c,
          bySide(c, narrowed),
          at(c, path),
          `${k} went from ${bl.length} to ${al.length} schemas`,
          k,
        );
      }
    },
  },
  {
    keys: ["deprecated", "default"],
    check(c, b, a, path) {
      if (!same(b.deprecated ?? false, a.deprecated ?? false))
        emit(
          c,
          "non-breaking",
          at(c, path),
          a.deprecated ? "deprecated" : "no longer deprecated",
          "deprecated",
        );
      if (!same(b.default, a.default))
        emit(
          c,
          "non-breaking",
          at(c, path),
          `default changed from ${json(b.default)} to ${json(a.default)}`,
          "default",
        );
    },
  },
];
const SCHEMA_KEYS = new Set(SCHEMA_RULES.flatMap((r) => r.keys).concat("$ref"));

function compareProperties(c: SchemaCtx, b: Obj, a: Obj, path: string[]): void {
  const bp = isObj(b.properties) ? b.properties : {};
  const ap = isObj(a.properties) ? a.properties : {};
  const breq = new Set(Array.isArray(b.required) ? b.required.map(String) : []);
  const areq = new Set(Array.isArray(a.required) ? a.required.map(String) : []);
  // readOnly fields are not sent, writeOnly fields are not returned: they do not count on that side.
  const hidden = c.dir === "request" ? "readOnly" : "writeOnly";
  const isHidden = (doc: Obj, s: unknown) => s !== undefined && deref(doc, s).node[hidden] === true;
  for (const name of new Set([...Object.keys(bp), ...Object.keys(ap)])) {
    const where = at(c, [...path, name]);
    const [bh, ah] = [isHidden(c.before, bp[name]), isHidden(c.after, ap[name])];
    if (name in bp && name in ap) {
      if (!bh && ah) {
        const msg =
          c.dir === "request"
            ? "now readOnly: no longer accepted"
            : "now writeOnly: no longer returned";
        emit(c, "breaking", where, msg, hidden);
      } else if (!bh && !ah) compareSchema(c, bp[name], ap[name], [...path, name]);
    } else if (name in bp) {
      if (bh) continue;
      if (c.dir === "response") emit(c, "breaking", where, "field removed", "field-removed");
      else if (a.additionalProperties === false)
        emit(
          c,
          "breaking",
          where,
          "field removed while additionalProperties is false",
          "field-removed",
        );
      else emit(c, "non-breaking", where, "field removed", "field-removed");
    } else if (!ah) {
      if (c.dir === "request" && areq.has(name))
        emit(c, "breaking", where, "new required field", "required");
      else
        emit(
          c,
          "non-breaking",
          where,
          `${areq.has(name) ? "required" : "optional"} field added`,
          "field-added",
        );
    }
  }
  for (const name of areq) {
    if (breq.has(name) || !(name in bp) || isHidden(c.after, ap[name])) continue;
    const request = c.dir === "request";
    const msg = request ? "now required" : "now always present (made required)";
    emit(c, request ? "breaking" : "non-breaking", at(c, [...path, name]), msg, "required");
  }
  for (const name of breq) {
    if (areq.has(name) || !(name in ap) || isHidden(c.before, bp[name])) continue;
    const request = c.dir === "request";
    const msg = request ? "now optional" : "required field made optional";
    emit(c, request ? "non-breaking" : "breaking", at(c, [...path, name]), msg, "required");
  }
}

export function compareSchema(
  c: SchemaCtx,
  bRaw: unknown,
  aRaw: unknown,
  path: string[] = [],
): void {
  const b = deref(c.before, bRaw);
  const a = deref(c.after, aRaw);
  const pair = b.refs.length + a.refs.length ? `${b.refs.at(-1)}|${a.refs.at(-1)}` : undefined;
  if (pair) {
    if (c.stack.has(pair)) return; // a recursive schema: this pair is already being compared
    c.stack.add(pair);
  }
  for (const rule of SCHEMA_RULES) rule.check(c, b.node, a.node, path);
  compareDocs(c, b.node, a.node, at(c, path));
  catchAll(c, b.node, a.node, at(c, path), SCHEMA_KEYS, "breaking");
  if (pair) c.stack.delete(pair);
}

// ——— operations ———

interface Operation {
  method: string;
  path: string;
  op: Obj;
  item: Obj;
}
const opKey = (o: { method: string; path: string }) => `${o.method.toUpperCase()} ${o.path}`;
/** "/a/{x}/b" → "/a/{}/b", to recognise a renamed path parameter. */
const pathShape = (p: string) => p.replace(/\{[^}]*\}/g, "{}");
const pathParams = (p: string) => [...p.matchAll(/\{([^}]*)\}/g)].map((m) => m[1] ?? "");

function operations(doc: Obj): Map<string, Operation> {
  const ops = new Map<string, Operation>();
  for (const [path, raw] of Object.entries(isObj(doc.paths) ? doc.paths : {})) {
    const item = deref(doc, raw).node;
    for (const method of METHODS) {
      if (isObj(item[method]))
        ops.set(opKey({ method, path }), { method, path, op: item[method], item });
    }
  }
  return ops;
}

/** Parameters keyed by "in name"; path parameters by position, so a renamed one still pairs up. */
function parameters(doc: Obj, o: Operation): Map<string, Obj> {
  const params = new Map<string, Obj>();
  const positions = pathParams(o.path);
  for (const raw of [o.item.parameters, o.op.parameters].flatMap((l) =>
    Array.isArray(l) ? l : [],
  )) {
    const p = deref(doc, raw).node;
    const key =
      p.in === "path" ? `path #${positions.indexOf(String(p.name))}` : `${p.in} ${p.name}`;
    params.set(key, p);
  }
  return params;
}

function compareContent(c: Ctx, b: unknown, a: unknown, where: string, dir: Dir): void {
  const bc = isObj(b) ? b : {};
  const ac = isObj(a) ? a : {};
  for (const media of Object.keys(bc)) {
    if (!(media in ac))
      emit(c, "breaking", where, `media type ${media} dropped`, "media-type-removed");
  }
  for (const media of Object.keys(ac)) {
    if (!(media in bc))
      emit(c, "non-breaking", where, `media type ${media} added`, "media-type-added");
  }
  for (const media of Object.keys(bc).filter((m) => m in ac)) {
    const [bm, am] = [deref(c.before, bc[media]).node, deref(c.after, ac[media]).node];
    compareSchema({ ...c, dir, where, stack: new Set() }, bm.schema, am.schema);
    compareDocs(c, bm, am, where, ["example", "examples"]);
  }
}

function compareParameters(c: Ctx, bo: Operation, ao: Operation, where: string): void {
  const [bp, ap] = [parameters(c.before, bo), parameters(c.after, ao)];
  const label = (p: Obj) => `${where} › ${p.in} parameter ${p.name}`;
  for (const [key, p] of bp) {
    const q = ap.get(key);
    if (!q) {
      // The generated client drops the argument, so callers passing it no longer compile.
      emit(c, "breaking", label(p), "parameter removed", "parameter-removed");
      continue;
    }
    if (!p.required && q.required)
      emit(c, "breaking", label(q), "parameter made required", "parameter-required");
    if (p.required && !q.required)
      emit(c, "non-breaking", label(q), "parameter made optional", "parameter-required");
    for (const k of ["style", "explode", "allowReserved"]) {
      if (!same(p[k], q[k]))
        emit(c, "breaking", label(q), `${k} changed: serialisation differs`, "parameter-style");
    }
    if (!same(p.deprecated ?? false, q.deprecated ?? false))
      emit(
        c,
        "non-breaking",
        label(q),
        q.deprecated ? "deprecated" : "no longer deprecated",
        "deprecated",
      );
    compareSchema({ ...c, dir: "request", where: label(q), stack: new Set() }, p.schema, q.schema);
    if (p.content || q.content) compareContent(c, p.content, q.content, label(q), "request");
    compareDocs(c, p, q, label(q), ["description", "example", "examples", ...extensionKeys(p, q)]);
  }
  for (const [key, q] of ap) {
    if (bp.has(key)) continue;
    if (q.required) emit(c, "breaking", label(q), "required parameter added", "parameter-added");
    else emit(c, "non-breaking", label(q), "optional parameter added", "parameter-added");
  }
}

function compareRequestBody(c: Ctx, bo: Operation, ao: Operation, where: string): void {
  const [br, ar] = [bo.op.requestBody, ao.op.requestBody];
  if (br === undefined && ar === undefined) return;
  if (br === undefined) {
    const required = deref(c.after, ar).node.required === true;
    emit(
      c,
      required ? "breaking" : "non-breaking",
      where,
      `${required ? "required" : "optional"} request body added`,
      "request-body",
    );
    return;
  }
  if (ar === undefined) {
    emit(c, "breaking", where, "request body removed", "request-body");
    return;
  }
  const [b, a] = [deref(c.before, br).node, deref(c.after, ar).node];
  if (!b.required && a.required)
    emit(c, "breaking", where, "request body made required", "request-body");
  if (b.required && !a.required)
    emit(c, "non-breaking", where, "request body made optional", "request-body");
  compareContent(c, b.content, a.content, where, "request");
  compareDocs(c, b, a, where, ["description", ...extensionKeys(b, a)]);
}

function compareResponses(c: Ctx, bo: Operation, ao: Operation, where: string): void {
  const bs = isObj(bo.op.responses) ? bo.op.responses : {};
  const as = isObj(ao.op.responses) ? ao.op.responses : {};
  for (const status of Object.keys(bs)) {
    const loc = `${where} › response ${status}`;
    if (!(status in as)) {
      emit(c, "breaking", loc, `response status ${status} removed`, "response-removed");
      continue;
    }
    const [b, a] = [deref(c.before, bs[status]).node, deref(c.after, as[status]).node];
    compareContent(c, b.content, a.content, loc, "response");
    const [bh, ah] = [isObj(b.headers) ? b.headers : {}, isObj(a.headers) ? a.headers : {}];
    for (const h of Object.keys(bh)) {
      if (!(h in ah))
        emit(c, "breaking", `${loc} › header ${h}`, "response header removed", "response-header");
      else {
        const [hb, ha] = [deref(c.before, bh[h]).node, deref(c.after, ah[h]).node];
        compareSchema(
          { ...c, dir: "response", where: `${loc} › header ${h}`, stack: new Set() },
          hb.schema,
          ha.schema,
        );
      }
    }
    for (const h of Object.keys(ah)) {
      if (!(h in bh))
        emit(c, "non-breaking", `${loc} › header ${h}`, "response header added", "response-header");
    }
    compareDocs(c, b, a, loc, ["description", ...extensionKeys(b, a)]);
  }
  for (const status of Object.keys(as)) {
    if (!(status in bs))
      emit(
        c,
        "non-breaking",
        `${where} › response ${status}`,
        `response status ${status} added`,
        "response-added",
      );
  }
}

type Requirement = Map<string, string[]>;
function security(doc: Obj, op: Obj): Requirement[] {
  const reqs = Array.isArray(op.security)
    ? op.security
    : Array.isArray(doc.security)
      ? doc.security
      : [];
  const alts = reqs
    .filter(isObj)
    .map((r) => new Map(Object.entries(r).map(([k, v]) => [k, (v as string[]) ?? []])));
  return alts.length ? alts : [new Map()]; // no requirement: anonymous calls are allowed
}
/** Whether a client that satisfies `have` also satisfies one of the alternatives in `need`. */
const satisfies = (have: Requirement, need: Requirement[]) =>
  need.some((alt) =>
    [...alt].every(
      ([scheme, scopes]) => have.has(scheme) && scopes.every((s) => have.get(scheme)?.includes(s)),
    ),
  );
const showSecurity = (alts: Requirement[]) =>
  alts
    .map((alt) =>
      alt.size
        ? [...alt].map(([k, s]) => (s.length ? `${k}(${s.join(",")})` : k)).join(" + ")
        : "none",
    )
    .join(" or ");

function compareSecurity(c: Ctx, bo: Operation, ao: Operation, where: string): void {
  const [b, a] = [security(c.before, bo.op), security(c.after, ao.op)];
  if (showSecurity(b) === showSecurity(a)) return;
  const from = `security requirements changed from ${showSecurity(b)} to ${showSecurity(a)}`;
  if (b.some((alt) => !satisfies(alt, a))) emit(c, "breaking", where, from, "security");
  else emit(c, "non-breaking", where, from, "security");
}

const OPERATION_KEYS = new Set([
  "operationId",
  "parameters",
  "requestBody",
  "responses",
  "security",
  "deprecated",
  "tags",
]);

function compareOperation(c: Ctx, bo: Operation, ao: Operation): void {
  const where = opKey(bo);
  const [b, a] = [bo.op, ao.op];
  if (!same(b.operationId, a.operationId))
    emit(
      c,
      "breaking",
      where,
      `operationId changed from ${b.operationId} to ${a.operationId}`,
      "operation-id",
    );
  if (!same(b.deprecated ?? false, a.deprecated ?? false))
    emit(
      c,
      "non-breaking",
      where,
      a.deprecated ? "deprecated" : "no longer deprecated",
      "deprecated",
    );
  if (!same(b.tags, a.tags))
    emit(
      c,
      "non-breaking",
      where,
      `tags changed from ${list((b.tags as unknown[]) ?? [])} to ${list((a.tags as unknown[]) ?? [])}`,
      "tags",
    );
  compareParameters(c, bo, ao, where);
  compareRequestBody(c, bo, ao, `${where} › request`);
  compareResponses(c, bo, ao, where);
  compareSecurity(c, bo, ao, where);
  compareDocs(c, b, a, where);
  catchAll(c, b, a, where, OPERATION_KEYS, "non-breaking");
}

function compareOperations(c: Ctx): void {
  const [bops, aops] = [operations(c.before), operations(c.after)];
  const unmatched = new Map([...aops].filter(([k]) => !bops.has(k)));
  for (const [key, bo] of bops) {
    let ao = aops.get(key);
    if (!ao) {
      ao = [...unmatched.values()].find(
        (o) => o.method === bo.method && pathShape(o.path) === pathShape(bo.path),
      );
      if (ao) {
        const renames = pathParams(bo.path)
          .map((p, i) => [p, pathParams(ao?.path ?? "")[i]])
          .filter(([x, y]) => x !== y)
          .map(([x, y]) => `{${x}} → {${y}}`);
        emit(
          c,
          "breaking",
          key,
          `path parameter renamed: ${renames.join(", ")} (now ${ao.path})`,
          "path-param-renamed",
        );
      } else if (bo.op.operationId) {
        ao = [...unmatched.values()].find(
          (o) => o.method === bo.method && o.op.operationId === bo.op.operationId,
        );
        if (ao) emit(c, "breaking", key, `path renamed to ${opKey(ao)}`, "path-renamed");
      }
    }
    if (!ao) {
      const pathGone = ![...aops.values()].some((o) => o.path === bo.path);
      const msg = pathGone
        ? "operation removed (the path is gone)"
        : `method ${bo.method.toUpperCase()} removed`;
      emit(c, "breaking", key, msg, "operation-removed");
      continue;
    }
    unmatched.delete(opKey(ao));
    compareOperation(c, bo, ao);
  }
  for (const [key, ao] of unmatched) {
    emit(
      c,
      "non-breaking",
      key,
      `operation ${ao.op.operationId ?? ""} added`.replace("  ", " "),
      "operation-added",
    );
  }
}

// ——— components and the document ———

function compareComponents(c: Ctx): void {
  const comp = (doc: Obj, kind: string) => {
    const components = isObj(doc.components) ? doc.components : {};
    return isObj(components[kind]) ? components[kind] : {};
  };
  const [bs, as] = [comp(c.before, "schemas"), comp(c.after, "schemas")];
  const reached = reachableSchemas(c.before);
  for (const name of Object.keys(bs)) {
    const where = `components › schemas › ${name}`;
    if (!(name in as)) emit(c, "breaking", where, "schema removed", "schema-removed");
    // Schemas used by operations are compared there, with the operation in the location. The
    // others (exported as types by the generated client) are compared as a reader would.
    else if (!reached.has(name))
      compareSchema({ ...c, dir: "response", where, stack: new Set() }, bs[name], as[name]);
  }
  for (const name of Object.keys(as)) {
    if (!(name in bs))
      emit(c, "non-breaking", `components › schemas › ${name}`, "schema added", "schema-added");
  }
  const [bsec, asec] = [comp(c.before, "securitySchemes"), comp(c.after, "securitySchemes")];
  for (const name of Object.keys(bsec)) {
    const where = `components › securitySchemes › ${name}`;
    if (!(name in asec)) {
      emit(c, "breaking", where, "security scheme removed", "security-scheme");
      continue;
    }
    const [b, a] = [deref(c.before, bsec[name]).node, deref(c.after, asec[name]).node];
    const strip = ({ description: _, ...rest }: Obj) => rest;
    if (!same(strip(b), strip(a)))
      emit(c, "breaking", where, "security scheme changed", "security-scheme");
    compareDocs(c, b, a, where, ["description"]);
  }
  for (const name of Object.keys(asec)) {
    if (!(name in bsec))
      emit(
        c,
        "non-breaking",
        `components › securitySchemes › ${name}`,
        "security scheme added",
        "security-scheme",
      );
  }
}

function compareDocument(c: Ctx): void {
  const [b, a] = [c.before, c.after];
  const bi = isObj(b.info) ? b.info : {};
  const ai = isObj(a.info) ? a.info : {};
  compareDocs(c, bi, ai, "info", new Set([...Object.keys(bi), ...Object.keys(ai)]));
  compareDocs(c, b, a, "document", ["tags", "externalDocs"]);
  if (!same(b.servers, a.servers))
    emit(c, "non-breaking", "document", "servers changed", "servers");
  if (!same(b.openapi, a.openapi))
    emit(
      c,
      "non-breaking",
      "document",
      `openapi version changed from ${b.openapi} to ${a.openapi}`,
      "openapi",
    );
  const handled = new Set([
    "info",
    "tags",
    "externalDocs",
    "servers",
    "openapi",
    "paths",
    "components",
    "security",
  ]);
  catchAll(c, b, a, "document", handled, "non-breaking");
}

/** Every difference between two bundled documents, breaking ones first, deduplicated. */
export function diffSpecs(before: unknown, after: unknown): Change[] {
  if (!isObj(before) || !isObj(after)) throw new Error("both specs must be JSON objects");
  const c: Ctx = { before, after, out: [] };
  compareOperations(c);
  compareComponents(c);
  compareDocument(c);
  const seen = new Set<string>();
  const order: Severity[] = ["breaking", "non-breaking", "docs"];
  return c.out
    .filter((ch) => {
      const k = `${ch.severity}\0${ch.location}\0${ch.message}`;
      return !seen.has(k) && seen.add(k);
    })
    .sort((x, y) => order.indexOf(x.severity) - order.indexOf(y.severity));
}
