// A small ahead-of-time compiler from the spec's entity schemas to request validators.
// It supports exactly the JSON Schema keywords the spec uses and FAILS on anything else,
// so a spec change can never silently weaken client-side validation.
import { type EntityInfo, isObject, type Json, type JsonObject, resolveRef } from "./spec.ts";

/** Keywords that only annotate: they never change what is valid. */
const ANNOTATIONS = new Set([
  "title",
  "description",
  "examples",
  "example",
  "readOnly",
  "writeOnly",
  "deprecated",
  "default",
  "$comment",
]);
const OBJECT_KEYWORDS = new Set(["type", "properties", "required", "additionalProperties"]);
const PROPERTY_KEYWORDS = new Set(["type", "format", "maxLength", "minLength"]);
const SCALAR_TYPES = new Set(["string", "integer", "number", "boolean", "null"]);
const FORMATS: Record<string, Set<string>> = {
  string: new Set(["date-time"]),
  integer: new Set(["int32", "int64"]),
  number: new Set(["double", "float"]),
};

function checkKeywords(schema: JsonObject, allowed: Set<string>, where: string): void {
  for (const keyword of Object.keys(schema)) {
    if (ANNOTATIONS.has(keyword) || keyword.startsWith("x-") || allowed.has(keyword)) continue;
    throw new Error(`codegen: unsupported JSON Schema keyword "${keyword}" at ${where}`);
  }
}

interface PropertyPlan {
  name: string;
  required: boolean;
  nullable: boolean;
  type: "string" | "integer" | "number" | "boolean";
  format: string | undefined;
  maxLength: number | undefined;
  minLength: number | undefined;
}

function planProperty(
  spec: JsonObject,
  name: string,
  raw: Json,
  required: boolean,
  where: string,
): PropertyPlan {
  const schema = resolveRef(spec, raw);
  if (!isObject(schema)) throw new Error(`codegen: ${where} is not a schema object`);
  checkKeywords(schema, PROPERTY_KEYWORDS, where);
  const types = Array.isArray(schema.type) ? schema.type : [schema.type];
  for (const t of types) {
    if (typeof t !== "string" || !SCALAR_TYPES.has(t)) {
      throw new Error(`codegen: unsupported type ${JSON.stringify(t)} at ${where}`);
    }
  }
  const nonNull = types.filter((t) => t !== "null") as PropertyPlan["type"][];
  if (nonNull.length !== 1)
    throw new Error(`codegen: ${where} must have exactly one non-null type`);
  const type = nonNull[0] as PropertyPlan["type"];
  const format = schema.format;
  if (format !== undefined && (typeof format !== "string" || !FORMATS[type]?.has(format))) {
    throw new Error(
      `codegen: unsupported format ${JSON.stringify(format)} for type ${type} at ${where}`,
    );
  }
  for (const kw of ["maxLength", "minLength"] as const) {
    const v = schema[kw];
    if (v === undefined) continue;
    if (type !== "string") throw new Error(`codegen: ${kw} on a non-string at ${where}`);
    if (typeof v !== "number" || !Number.isInteger(v) || v < 0)
      throw new Error(`codegen: bad ${kw} at ${where}`);
  }
  return {
    name,
    required,
    nullable: types.includes("null"),
    type,
    format: format as string | undefined,
    maxLength: schema.maxLength as number | undefined,
    minLength: schema.minLength as number | undefined,
  };
}

function planObject(spec: JsonObject, schema: JsonObject, where: string): PropertyPlan[] {
  checkKeywords(schema, OBJECT_KEYWORDS, where);
  if (schema.type !== "object") throw new Error(`codegen: ${where} must be type: object`);
  if (schema.additionalProperties !== false) {
    throw new Error(`codegen: ${where} must say additionalProperties: false`);
  }
  const properties = schema.properties;
  if (!isObject(properties)) throw new Error(`codegen: ${where} has no properties`);
  const required = Array.isArray(schema.required) ? schema.required : [];
  for (const r of required) {
    if (typeof r !== "string" || !(r in properties)) {
      throw new Error(`codegen: ${where}: required field ${String(r)} is not a property`);
    }
  }
  return Object.entries(properties).map(([name, prop]) =>
    planProperty(spec, name, prop, required.includes(name), `${where}/properties/${name}`),
  );
}

const q = (s: string) => JSON.stringify(s);

/** Emits the statements that check one property; `v` holds its value. */
function emitProperty(p: PropertyPlan): string {
  const path = q(p.name);
  const fail = (message: string) =>
    `{ ok = fail(out, index, ${path}, ${q(message)}); if (out === null) return false; }`;
  const lines: string[] = [];
  lines.push(`  v = o[${path}];`);
  lines.push(`  if (v === undefined) {${p.required ? ` ${fail("is required")} ` : ""}}`);
  lines.push(`  else if (v === null) {${p.nullable ? "" : ` ${fail("must not be null")} `}}`);
  switch (p.type) {
    case "boolean":
      lines.push(`  else if (typeof v !== "boolean") ${fail("must be a boolean")}`);
      break;
    case "number":
      lines.push(
        `  else if (typeof v !== "number" || !Number.isFinite(v)) ${fail("must be a finite number")}`,
      );
      break;
    case "integer":
      if (p.format === "int32") {
        lines.push(
          `  else if (typeof v !== "number" || !Number.isInteger(v) || v < -2147483648 || v > 2147483647) ${fail("must be an integer in the int32 range")}`,
        );
      } else {
        lines.push(
          `  else if (typeof v !== "number" || !Number.isSafeInteger(v)) ${fail("must be a safe integer")}`,
        );
      }
      break;
    case "string": {
      lines.push(`  else if (typeof v !== "string") ${fail("must be a string")}`);
      const checks: string[] = [];
      if (p.maxLength !== undefined) {
        checks.push(
          `    if (v.length > ${p.maxLength} && codePoints(v) > ${p.maxLength}) ${fail(`must be at most ${p.maxLength} characters long`)}`,
        );
      }
      if (p.minLength !== undefined && p.minLength > 0) {
        checks.push(
          `    if (v.length < ${p.minLength} || (v.length < ${2 * p.minLength} && codePoints(v) < ${p.minLength})) ${fail(`must be at least ${p.minLength} character${p.minLength === 1 ? "" : "s"} long`)}`,
        );
      }
      if (p.format === "date-time") {
        checks.push(
          `    if (!isDateTime(v)) ${fail("must be an RFC 3339 date-time with a time zone")}`,
        );
      }
      if (checks.length > 0) lines.push(`  else {\n${checks.join("\n")}\n  }`);
      break;
    }
  }
  return lines.join("\n");
}

function emitObjectValidator(fnName: string, plan: PropertyPlan[]): string {
  const reject = `if (o[k] !== undefined) {
      ok = fail(out, index, k, "is not a field of this record type");
      if (out === null) return false;
    }`;
  const additional =
    plan.length === 0
      ? `  for (const k in o) {\n    ${reject}\n  }`
      : `  for (const k in o) {
    switch (k) {
${plan.map((p) => `      case ${q(p.name)}:`).join("\n")}
        continue;
      default:
        ${reject}
    }
  }`;
  return `function ${fnName}(record: unknown, index: number, out: ValidationIssue[] | null): boolean {
  if (typeof record !== "object" || record === null || Array.isArray(record)) {
    return fail(out, index, "", "must be an object");
  }
  const o = record as Record<string, unknown>;
  let ok = true;
  let v: unknown;
${plan.map(emitProperty).join("\n")}
${additional}
  return ok;
}`;
}

const RUNTIME = `export interface ValidationIssue {
  /** Index of the record in the array that was validated (-1 for path parameters). */
  index: number;
  /** The field at fault ("" for the record itself). */
  path: string;
  /** Why it is invalid. Never contains the value. */
  message: string;
}

/** Checks one record; pushes every issue into \`out\` (when given) and returns whether it is valid. */
export type RecordValidator = (record: unknown, index: number, out: ValidationIssue[] | null) => boolean;

function fail(out: ValidationIssue[] | null, index: number, path: string, message: string): false {
  if (out !== null) out.push({ index, path, message });
  return false;
}

function codePoints(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
    n++;
  }
  return n;
}

function digits2(s: string, i: number): number {
  const a = s.charCodeAt(i) - 48;
  const b = s.charCodeAt(i + 1) - 48;
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : -1;
}

const DAYS = [0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** RFC 3339 date-time with a required time zone (as ajv-formats' "date-time"), without allocating. */
function isDateTime(s: string): boolean {
  const n = s.length;
  if (n < 20) return false;
  const y1 = digits2(s, 0);
  const y2 = digits2(s, 2);
  const month = digits2(s, 5);
  const day = digits2(s, 8);
  const sep = s.charCodeAt(10);
  const hr = digits2(s, 11);
  const min = digits2(s, 14);
  const sec = digits2(s, 17);
  if (y1 < 0 || y2 < 0 || month < 1 || month > 12 || day < 1 || hr < 0 || min < 0 || sec < 0) return false;
  if (s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45 || s.charCodeAt(13) !== 58 || s.charCodeAt(16) !== 58) return false;
  if (sep !== 84 && sep !== 116 && sep !== 32) return false;
  const year = y1 * 100 + y2;
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  if (day > (month === 2 && leap ? 29 : (DAYS[month] as number))) return false;
  let i = 19;
  if (s.charCodeAt(i) === 46) {
    i++;
    const start = i;
    while (i < n && s.charCodeAt(i) >= 48 && s.charCodeAt(i) <= 57) i++;
    if (i === start) return false;
  }
  const z = s.charCodeAt(i);
  let tzSign = 0;
  let tzH = 0;
  let tzM = 0;
  if (z === 90 || z === 122) {
    if (i + 1 !== n) return false;
  } else if (z === 43 || z === 45) {
    tzSign = z === 43 ? 1 : -1;
    tzH = digits2(s, i + 1);
    if (tzH < 0) return false;
    i += 3;
    if (i < n) {
      if (s.charCodeAt(i) === 58) i++;
      tzM = digits2(s, i);
      if (tzM < 0 || i + 2 !== n) return false;
    }
  } else {
    return false;
  }
  if (hr <= 23 && min <= 59 && sec < 60) return true;
  // A leap second is only valid at 23:59:60 UTC.
  const utcMin = min - tzM * tzSign;
  const utcHr = hr - tzH * tzSign - (utcMin < 0 ? 1 : 0);
  return sec === 60 && (utcHr === 23 || utcHr === -1) && (utcMin === 59 || utcMin === -1);
}`;

export function emitValidators(spec: JsonObject, entities: EntityInfo[], header: string): string {
  const parts: string[] = [
    header,
    `import type { EntityName } from "./entities.js";`,
    "",
    RUNTIME,
    "",
  ];
  for (const e of entities) {
    const plan = planObject(spec, e.schema, `#/components/schemas/${e.name}`);
    parts.push(emitObjectValidator(`validate${e.name}`, plan), "");
    const paramProps: JsonObject = {};
    for (const name of e.pathParams) {
      const p = e.pathParamObjects[name] as JsonObject;
      checkKeywords(
        p,
        new Set(["name", "in", "required", "schema", "description", "example", "examples"]),
        `${e.path} parameter ${name}`,
      );
      if (p.required !== true) throw new Error(`codegen: path parameter ${name} must be required`);
      paramProps[name] = p.schema ?? null;
    }
    const paramPlan = planObject(
      spec,
      {
        type: "object",
        additionalProperties: false,
        properties: paramProps,
        required: e.pathParams,
      },
      `${e.path} path parameters`,
    );
    parts.push(emitObjectValidator(`validate${e.name}PathParams`, paramPlan), "");
  }
  parts.push(
    "/** Request-record validators, compiled ahead of time from the spec's entity schemas. */",
    "export const recordValidators: { readonly [E in EntityName]: RecordValidator } = {",
    ...entities.map((e) => `  ${e.name}: validate${e.name},`),
    "};",
    "",
    "/** Path-parameter validators (the parameters as one object); issues carry index -1. */",
    "export const pathParamValidators: { readonly [E in EntityName]: RecordValidator } = {",
    ...entities.map((e) => `  ${e.name}: validate${e.name}PathParams,`),
    "};",
    "",
  );
  return parts.join("\n");
}
