// The schema rules: how a change to a schema keyword is classified. Direction matters: a request
// schema that accepts less breaks the clients that send it, a response schema that may return more
// (or differently typed) data breaks the clients that read it. Each rule names the keywords it
// handles; any other keyword that changes is reported by the catch-all as breaking, to be reviewed.

import { isObject } from "@vbapi-sdk/tool-spec-model";
import {
  catchAll,
  compareDocs,
  emit,
  json,
  list,
  type SchemaContext,
  type Severity,
  same,
} from "./context.ts";
import { deref, type Obj } from "./refs.ts";

interface SchemaRule {
  keys: string[];
  /** Compares the keywords of `keys` between the two schemas at `path` (field names, "[]"…). */
  check(ctx: SchemaContext, before: Obj, after: Obj, path: string[]): void;
}

/** "data[].id"; leading array items of a body are left out: "tolerance1", not "[].tolerance1". */
function fieldPath(path: string[]): string {
  let text = "";
  for (const segment of path) {
    if (segment === "[]") text += "[]";
    else if (segment.startsWith("(")) text += `${text ? " " : ""}${segment}`;
    else text += `${text ? "." : ""}${segment}`;
  }
  return text.startsWith("[].") ? text.slice(3) : text;
}
const at = (ctx: SchemaContext, path: string[]) => {
  const field = fieldPath(path);
  return field ? `${ctx.where} › ${field}` : ctx.where;
};

/** A narrower schema breaks senders (requests); a wider one breaks readers (responses). */
const bySide = (ctx: SchemaContext, narrowed: boolean): Severity =>
  narrowed === (ctx.direction === "request") ? "breaking" : "non-breaking";

function typeSet(schema: Obj): string[] | undefined {
  const types =
    typeof schema.type === "string"
      ? [schema.type]
      : Array.isArray(schema.type)
        ? schema.type.map(String)
        : undefined;
  return types && schema.nullable === true && !types.includes("null") ? [...types, "null"] : types;
}
const accepts = (types: string[] | undefined, type: string) =>
  !types || types.includes(type) || (type === "integer" && types.includes("number"));
const showTypes = (types: string[] | undefined) => (types ? types.join("|") : "any");

/** enum, or const as a one-value enum; undefined when the values are unconstrained. */
const enumOf = (schema: Obj): unknown[] | undefined =>
  Array.isArray(schema.enum) ? schema.enum : "const" in schema ? [schema.const] : undefined;

/** Format changes that accept more values. */
const FORMAT_WIDENS: Record<string, string[]> = { int32: ["int64"], float: ["double"] };

const UPPER_LIMITS = ["maxLength", "maxItems", "maxProperties", "maximum", "exclusiveMaximum"];
const LOWER_LIMITS = ["minLength", "minItems", "minProperties", "minimum", "exclusiveMinimum"];

function limitRule(key: string, upper: boolean): SchemaRule {
  return {
    keys: [key],
    check(ctx, before, after, path) {
      const [limitBefore, limitAfter] = [before[key], after[key]];
      if (same(limitBefore, limitAfter)) return;
      const where = at(ctx, path);
      if (
        (limitBefore !== undefined && typeof limitBefore !== "number") ||
        (limitAfter !== undefined && typeof limitAfter !== "number")
      ) {
        const message = `${key} changed from ${json(limitBefore)} to ${json(limitAfter)}`;
        emit(ctx, bySide(ctx, true), where, message, "limit");
        return;
      }
      const [widened, narrowed] = upper ? ["loosened", "tightened"] : ["lowered", "raised"];
      if (limitBefore === undefined)
        emit(ctx, bySide(ctx, true), where, `new ${key} ${limitAfter}`, "limit");
      else if (limitAfter === undefined)
        emit(ctx, bySide(ctx, false), where, `${key} ${limitBefore} removed`, "limit");
      else {
        const narrower = upper ? limitAfter < limitBefore : limitAfter > limitBefore;
        const how = narrower ? narrowed : widened;
        const message = `${key} ${how} from ${limitBefore} to ${limitAfter}`;
        emit(ctx, bySide(ctx, narrower), where, message, "limit");
      }
    },
  };
}

const typeRule: SchemaRule = {
  keys: ["type", "nullable"],
  check(ctx, before, after, path) {
    const [typesBefore, typesAfter] = [typeSet(before), typeSet(after)];
    const lost = typesBefore
      ? typesBefore.filter((t) => !accepts(typesAfter, t))
      : typesAfter
        ? ["any"]
        : [];
    const gained = typesAfter
      ? typesAfter.filter((t) => !accepts(typesBefore, t))
      : typesBefore
        ? ["any"]
        : [];
    if (!lost.length && !gained.length) return;
    const where = at(ctx, path);
    const fromTo = `from ${showTypes(typesBefore)} to ${showTypes(typesAfter)}`;
    // Generated response types change with any type change, so responses break either way.
    if (ctx.direction === "response")
      emit(ctx, "breaking", where, `type changed ${fromTo}`, "type");
    else if (lost.length) {
      const how = gained.length ? "changed" : "narrowed";
      emit(ctx, "breaking", where, `type ${how} ${fromTo}`, "type");
    } else emit(ctx, "non-breaking", where, `type widened ${fromTo}`, "type");
  },
};

const formatRule: SchemaRule = {
  keys: ["format"],
  check(ctx, before, after, path) {
    const [formatBefore, formatAfter] = [before.format, after.format];
    if (same(formatBefore, formatAfter)) return;
    const where = at(ctx, path);
    if (ctx.direction === "response") {
      const message = `format changed from ${formatBefore ?? "none"} to ${formatAfter ?? "none"}`;
      emit(ctx, "breaking", where, message, "format");
    } else if (formatAfter === undefined) {
      emit(ctx, "non-breaking", where, `format ${formatBefore} removed`, "format");
    } else if (formatBefore === undefined) {
      emit(ctx, "breaking", where, `format narrowed: ${formatAfter} added`, "format");
    } else {
      const widened = FORMAT_WIDENS[String(formatBefore)]?.includes(String(formatAfter));
      const message = `format ${widened ? "widened" : "narrowed"} from ${formatBefore} to ${formatAfter}`;
      emit(ctx, widened ? "non-breaking" : "breaking", where, message, "format");
    }
  },
};

/** Keywords that only constrain when present: adding one narrows, removing one widens. */
const constraintRule: SchemaRule = {
  keys: ["multipleOf", "uniqueItems", "pattern"],
  check(ctx, before, after, path) {
    for (const key of this.keys) {
      if (same(before[key], after[key]) || (key === "uniqueItems" && !before[key] && !after[key]))
        continue;
      const narrowed = after[key] !== undefined && after[key] !== false;
      const absentBefore = before[key] === undefined || before[key] === false;
      const what = absentBefore ? "added" : narrowed ? "changed" : "removed";
      const value = what === "removed" ? json(before[key]) : json(after[key]);
      emit(ctx, bySide(ctx, narrowed), at(ctx, path), `${key} ${value} ${what}`, key);
    }
  },
};

const enumRule: SchemaRule = {
  keys: ["enum", "const"],
  check(ctx, before, after, path) {
    const [valuesBefore, valuesAfter] = [enumOf(before), enumOf(after)];
    if (same(valuesBefore, valuesAfter)) return;
    const where = at(ctx, path);
    if (!valuesBefore) {
      const message = `values restricted to ${list(valuesAfter ?? [])}`;
      return emit(ctx, bySide(ctx, true), where, message, "enum");
    }
    if (!valuesAfter)
      return emit(ctx, bySide(ctx, false), where, `enum ${list(valuesBefore)} removed`, "enum");
    const removed = valuesBefore.filter((v) => !valuesAfter.some((w) => same(v, w)));
    const added = valuesAfter.filter((v) => !valuesBefore.some((w) => same(v, w)));
    if (removed.length)
      emit(ctx, bySide(ctx, true), where, `enum value(s) removed: ${list(removed)}`, "enum");
    if (added.length)
      emit(ctx, bySide(ctx, false), where, `enum value(s) added: ${list(added)}`, "enum");
  },
};

const additionalPropertiesRule: SchemaRule = {
  keys: ["additionalProperties"],
  check(ctx, before, after, path) {
    // false < a schema < true or absent, by how much they accept.
    const rank = (value: unknown) => (value === false ? 0 : isObject(value) ? 1 : 2);
    const [rankBefore, rankAfter] = [
      rank(before.additionalProperties),
      rank(after.additionalProperties),
    ];
    if (rankBefore === 1 && rankAfter === 1) {
      const [extraBefore, extraAfter] = [before.additionalProperties, after.additionalProperties];
      return compareSchema(ctx, extraBefore, extraAfter, [...path, "*"]);
    }
    if (rankBefore === rankAfter) return;
    const show = (value: unknown) =>
      value === undefined ? "absent" : isObject(value) ? "a schema" : json(value);
    const message = `additionalProperties changed from ${show(before.additionalProperties)} to ${show(after.additionalProperties)}`;
    // Readers of a response are not hurt by more or fewer unknown fields being allowed.
    const severity =
      ctx.direction === "request" ? bySide(ctx, rankAfter < rankBefore) : "non-breaking";
    emit(ctx, severity, at(ctx, path), message, "additionalProperties");
  },
};

const itemsRule: SchemaRule = {
  keys: ["items"],
  check(ctx, before, after, path) {
    if (before.items !== undefined && after.items !== undefined)
      return compareSchema(ctx, before.items, after.items, [...path, "[]"]);
    if (before.items === after.items) return;
    const message = `items schema ${before.items ? "removed" : "added"}`;
    emit(ctx, bySide(ctx, after.items !== undefined), at(ctx, path), message, "items");
  },
};

const compositionRule: SchemaRule = {
  keys: ["allOf", "anyOf", "oneOf"],
  check(ctx, before, after, path) {
    for (const key of this.keys) {
      const [listBefore, listAfter] = [before[key], after[key]];
      if (listBefore === undefined && listAfter === undefined) continue;
      if (!Array.isArray(listBefore) || !Array.isArray(listAfter)) {
        const added = listBefore === undefined;
        emit(ctx, bySide(ctx, added), at(ctx, path), `${key} ${added ? "added" : "removed"}`, key);
        continue;
      }
      for (let i = 0; i < Math.min(listBefore.length, listAfter.length); i++)
        compareSchema(ctx, listBefore[i], listAfter[i], [...path, `(${key} ${i + 1})`]);
      if (listBefore.length === listAfter.length) continue;
      // More allOf parts accept less; more anyOf/oneOf alternatives accept more.
      const narrowed =
        key === "allOf"
          ? listAfter.length > listBefore.length
          : listAfter.length < listBefore.length;
      const message = `${key} went from ${listBefore.length} to ${listAfter.length} schemas`;
      emit(ctx, bySide(ctx, narrowed), at(ctx, path), message, key);
    }
  },
};

const annotationRule: SchemaRule = {
  keys: ["deprecated", "default"],
  check(ctx, before, after, path) {
    if (!same(before.deprecated ?? false, after.deprecated ?? false)) {
      const message = after.deprecated ? "deprecated" : "no longer deprecated";
      emit(ctx, "non-breaking", at(ctx, path), message, "deprecated");
    }
    if (!same(before.default, after.default)) {
      const message = `default changed from ${json(before.default)} to ${json(after.default)}`;
      emit(ctx, "non-breaking", at(ctx, path), message, "default");
    }
  },
};

/** Fields: added, removed, made required or optional, hidden by readOnly/writeOnly, compared. */
function compareProperties(ctx: SchemaContext, before: Obj, after: Obj, path: string[]): void {
  const propsBefore = isObject(before.properties) ? before.properties : {};
  const propsAfter = isObject(after.properties) ? after.properties : {};
  const requiredBefore = new Set(Array.isArray(before.required) ? before.required.map(String) : []);
  const requiredAfter = new Set(Array.isArray(after.required) ? after.required.map(String) : []);
  const request = ctx.direction === "request";
  // readOnly fields are not sent, writeOnly fields are not returned: they do not count on that side.
  const hidden = request ? "readOnly" : "writeOnly";
  const isHidden = (doc: Obj, schema: unknown) =>
    schema !== undefined && deref(doc, schema).node[hidden] === true;
  for (const name of new Set([...Object.keys(propsBefore), ...Object.keys(propsAfter)])) {
    const where = at(ctx, [...path, name]);
    const hiddenBefore = isHidden(ctx.beforeDoc, propsBefore[name]);
    const hiddenAfter = isHidden(ctx.afterDoc, propsAfter[name]);
    if (name in propsBefore && name in propsAfter) {
      if (!hiddenBefore && hiddenAfter) {
        const message = request
          ? "now readOnly: no longer accepted"
          : "now writeOnly: no longer returned";
        emit(ctx, "breaking", where, message, hidden);
      } else if (!hiddenBefore && !hiddenAfter)
        compareSchema(ctx, propsBefore[name], propsAfter[name], [...path, name]);
    } else if (name in propsBefore) {
      if (hiddenBefore) continue;
      if (!request) emit(ctx, "breaking", where, "field removed", "field-removed");
      else if (after.additionalProperties === false) {
        const message = "field removed while additionalProperties is false";
        emit(ctx, "breaking", where, message, "field-removed");
      } else emit(ctx, "non-breaking", where, "field removed", "field-removed");
    } else if (!hiddenAfter) {
      if (request && requiredAfter.has(name))
        emit(ctx, "breaking", where, "new required field", "required");
      else {
        const message = `${requiredAfter.has(name) ? "required" : "optional"} field added`;
        emit(ctx, "non-breaking", where, message, "field-added");
      }
    }
  }
  for (const name of requiredAfter) {
    if (requiredBefore.has(name) || !(name in propsBefore)) continue;
    if (isHidden(ctx.afterDoc, propsAfter[name])) continue;
    const message = request ? "now required" : "now always present (made required)";
    const severity = request ? "breaking" : "non-breaking";
    emit(ctx, severity, at(ctx, [...path, name]), message, "required");
  }
  for (const name of requiredBefore) {
    if (requiredAfter.has(name) || !(name in propsAfter)) continue;
    if (isHidden(ctx.beforeDoc, propsBefore[name])) continue;
    const message = request ? "now optional" : "required field made optional";
    const severity = request ? "non-breaking" : "breaking";
    emit(ctx, severity, at(ctx, [...path, name]), message, "required");
  }
}

const SCHEMA_RULES: SchemaRule[] = [
  typeRule,
  formatRule,
  ...UPPER_LIMITS.map((key) => limitRule(key, true)),
  ...LOWER_LIMITS.map((key) => limitRule(key, false)),
  constraintRule,
  enumRule,
  { keys: ["properties", "required", "readOnly", "writeOnly"], check: compareProperties },
  additionalPropertiesRule,
  itemsRule,
  compositionRule,
  annotationRule,
];
const SCHEMA_KEYS = new Set(SCHEMA_RULES.flatMap((rule) => rule.keys).concat("$ref"));

/** Applies every rule to a pair of schemas (each may be a $ref), then docs and the catch-all. */
export function compareSchema(
  ctx: SchemaContext,
  rawBefore: unknown,
  rawAfter: unknown,
  path: string[] = [],
): void {
  const before = deref(ctx.beforeDoc, rawBefore);
  const after = deref(ctx.afterDoc, rawAfter);
  const pair =
    before.refs.length + after.refs.length
      ? `${before.refs.at(-1)}|${after.refs.at(-1)}`
      : undefined;
  if (pair) {
    if (ctx.inProgress.has(pair)) return; // a recursive schema: this pair is already being compared
    ctx.inProgress.add(pair);
  }
  for (const rule of SCHEMA_RULES) rule.check(ctx, before.node, after.node, path);
  compareDocs(ctx, before.node, after.node, at(ctx, path));
  catchAll(ctx, before.node, after.node, at(ctx, path), SCHEMA_KEYS, "breaking");
  if (pair) ctx.inProgress.delete(pair);
}
