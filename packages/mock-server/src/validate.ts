// Compiles the spec's own schemas once with Ajv (draft 2020-12) and formats failures as
// "record 3, field /tolerance1: must be number". Messages name indexes and fields, never values.
import Ajv2020, { type ErrorObject, type ValidateFunction } from "ajv/dist/2020.js";
import addFormatsModule from "ajv-formats";
import type { JsonSchema, ParameterInfo, RouteInfo } from "./spec.ts";

// ajv-formats is CommonJS; depending on the loader its default export may be wrapped once more.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ??
  addFormatsModule) as unknown as typeof addFormatsModule.default;
type AjvClass = typeof Ajv2020.default;
const Ajv = ((Ajv2020 as unknown as { default?: AjvClass }).default ?? Ajv2020) as AjvClass;
type AjvInstance = InstanceType<AjvClass>;

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;

/** One validation failure, safe to show: no values, only where and what. */
export interface FieldError {
  /** Index of the record in the batch, or null when the failure is about the body as a whole. */
  record: number | null;
  /** JSON pointer of the field inside the record (e.g. `/tolerance1`), or "" for the record itself. */
  field: string;
  /** What is wrong, e.g. "must be number". */
  message: string;
}

/** Compiled validators for one route. */
export interface RouteValidators {
  /** Fast check of the whole body (stops at the first failure). */
  body: ValidateFunction;
  /** Per-record check that collects every failure of one record. */
  item: ValidateFunction | undefined;
  /** Path parameter validators by name. */
  pathParams: Map<string, ValidateFunction>;
  /** Header parameter validators by lower-case header name. */
  headerParams: Map<string, ValidateFunction>;
}

function collectExtensionKeywords(node: unknown, into: Set<string>, depth = 0): void {
  if (depth > 64 || node === null || typeof node !== "object") return;
  if (Array.isArray(node)) {
    for (const item of node) collectExtensionKeywords(item, into, depth + 1);
    return;
  }
  for (const [key, value] of Object.entries(node)) {
    if (key.startsWith("x-")) into.add(key);
    collectExtensionKeywords(value, into, depth + 1);
  }
}

// RFC 3339 section 5.6, strictly: "T" between date and time, seconds required, an offset of
// "Z" or +hh:mm / -hh:mm with hours 00-23 and minutes 00-59 ("T" and "Z" in either case).
const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.\d+)?(?:[Zz]|([+-])(\d{2}):(\d{2}))$/;
const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** Whether `text` is an RFC 3339 date-time (a leap second only at 23:59:60 UTC). */
export function isRfc3339DateTime(text: string): boolean {
  const m = RFC3339.exec(text);
  if (!m) return false;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const offsetHours = Number(m[8] ?? 0);
  const offsetMinutes = Number(m[9] ?? 0);
  if (month < 1 || month > 12 || day < 1) return false;
  const leapYear = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  if (day > (month === 2 && leapYear ? 29 : (MONTH_DAYS[month - 1] as number))) return false;
  if (hour > 23 || minute > 59 || second > 60 || offsetHours > 23 || offsetMinutes > 59) {
    return false;
  }
  if (second < 60) return true;
  const sign = m[7] === "-" ? -1 : 1;
  const utcMinute =
    (((hour * 60 + minute - sign * (offsetHours * 60 + offsetMinutes)) % 1440) + 1440) % 1440;
  return utcMinute === 1439;
}

function createAjv(allErrors: boolean, extensions: Iterable<string>): AjvInstance {
  const ajv = new Ajv({ allErrors, strict: true, allowUnionTypes: true, messages: true });
  addFormats(ajv);
  ajv.addFormat("date-time", { type: "string", validate: isRfc3339DateTime });
  // OpenAPI formats. int32 must be an integer inside the 32-bit range; double any finite number.
  ajv.addFormat("int32", {
    type: "number",
    validate: (n: number) => Number.isInteger(n) && n >= INT32_MIN && n <= INT32_MAX,
  });
  ajv.addFormat("double", { type: "number", validate: (n: number) => Number.isFinite(n) });
  // OpenAPI annotations that are not JSON Schema keywords.
  ajv.addVocabulary(["example", "discriminator", "xml", "externalDocs", ...extensions]);
  return ajv;
}

/** Compiles validators for every route, once. */
export function compileValidators(routes: readonly RouteInfo[]): Map<RouteInfo, RouteValidators> {
  const extensions = new Set<string>();
  for (const route of routes) {
    collectExtensionKeywords(route.bodySchema, extensions);
    for (const p of [...route.pathParams, ...route.headerParams]) {
      collectExtensionKeywords(p.schema, extensions);
    }
  }
  const fast = createAjv(false, extensions);
  const detailed = createAjv(true, extensions);
  const compileParams = (params: readonly ParameterInfo[], lower: boolean) =>
    new Map(params.map((p) => [lower ? p.name.toLowerCase() : p.name, fast.compile(p.schema)]));
  const out = new Map<RouteInfo, RouteValidators>();
  for (const route of routes) {
    const items = route.bodySchema.items as JsonSchema | undefined;
    out.set(route, {
      body: fast.compile(route.bodySchema),
      item: items && typeof items === "object" ? detailed.compile(items) : undefined,
      pathParams: compileParams(route.pathParams, false),
      headerParams: compileParams(route.headerParams, true),
    });
  }
  return out;
}

const MAX_NAME = 64;

function safeName(name: string): string {
  let clean = "";
  for (const ch of name) {
    const code = ch.charCodeAt(0);
    clean += code < 0x20 || code === 0x7f ? "?" : ch;
    if (clean.length > MAX_NAME) break;
  }
  return clean.length > MAX_NAME ? `${clean.slice(0, MAX_NAME)}…` : clean;
}

function escapePointer(name: string): string {
  return name.replace(/~/g, "~0").replace(/\//g, "~1");
}

/** Turns one Ajv error into a field error. `prefix` is the instance path of the record. */
function toFieldError(error: ErrorObject, record: number | null): FieldError {
  let field = error.instancePath;
  let message = error.message ?? "is invalid";
  const params = error.params as Record<string, unknown>;
  if (error.keyword === "additionalProperties" && typeof params.additionalProperty === "string") {
    field += `/${escapePointer(safeName(params.additionalProperty))}`;
    message = "is not a known field";
  } else if (error.keyword === "required" && typeof params.missingProperty === "string") {
    field += `/${escapePointer(safeName(params.missingProperty))}`;
    message = "is required";
  } else if (error.keyword === "propertyNames" || error.keyword === "unevaluatedProperties") {
    message = "has a field that is not allowed";
  }
  // Instance paths built from attacker-chosen property names: keep them short and printable.
  if (field.length > MAX_NAME * 2) field = `${safeName(field)}`;
  return { record, field, message };
}

/**
 * Validates a parsed body. Returns null when it is valid, otherwise up to `maxErrors` field
 * errors plus the total count.
 */
export function validateBody(
  validators: RouteValidators,
  body: unknown,
  maxErrors: number,
): { errors: FieldError[]; total: number } | null {
  if ((validators.body as (data: unknown) => boolean)(body)) return null;
  const errors: FieldError[] = [];
  let total = 0;
  if (Array.isArray(body) && validators.item) {
    const item = validators.item;
    for (let i = 0; i < body.length; i++) {
      if (item(body[i])) continue;
      for (const error of item.errors ?? []) {
        total++;
        if (errors.length < maxErrors) errors.push(toFieldError(error, i));
      }
    }
  }
  if (total === 0) {
    // The failure is about the body as a whole (not an array, too many items...).
    for (const error of validators.body.errors ?? []) {
      total++;
      const fe = toFieldError(error, null);
      if (errors.length < maxErrors) errors.push({ ...fe, field: fe.field || "" });
    }
  }
  return { errors, total };
}

/** Formats field errors as one `detail` line. */
export function describeErrors(errors: readonly FieldError[], total: number): string {
  const parts = errors.map((e) => {
    if (e.record === null) return `body${e.field ? `, at ${e.field}` : ""}: ${e.message}`;
    return e.field
      ? `record ${e.record}, field ${e.field}: ${e.message}`
      : `record ${e.record}: ${e.message}`;
  });
  if (total > errors.length) parts.push(`and ${total - errors.length} more`);
  return parts.join("; ");
}

/** Coerces a path parameter's text to the type its schema asks for. */
export function coerceParam(text: string, schema: JsonSchema): unknown {
  const types = Array.isArray(schema.type) ? schema.type : [schema.type];
  if ((types.includes("integer") || types.includes("number")) && /^-?\d+(\.\d+)?$/.test(text)) {
    return Number(text);
  }
  if (types.includes("boolean") && (text === "true" || text === "false")) return text === "true";
  return text;
}
