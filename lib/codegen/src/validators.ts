// A small ahead-of-time compiler from the spec's entity schemas to request validators.
// It supports exactly the JSON Schema keywords the spec uses and FAILS on anything else,
// so a spec change can never silently weaken client-side validation.
import {
  type BatchOperation,
  isObject,
  type Json,
  type JsonObject,
  resolveRef,
} from "@vbapi-sdk/tool-spec-model";

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

/** The generated validators.ts; `runtime` is the validator runtime's source (see runtime.ts). */
export function emitValidators(
  spec: JsonObject,
  entities: BatchOperation[],
  header: string,
  runtime: string,
): string {
  const parts: string[] = [
    header,
    `import type { EntityName } from "./entities.ts";`,
    "",
    runtime,
    "",
  ];
  // validate<Entity>Record and validate<Entity>PathParams: the two suffixes keep the names of
  // two entities apart even when one is named like the other's helper (`Widget`,
  // `WidgetPathParams`).
  for (const e of entities) {
    const plan = planObject(spec, e.schema, `#/components/schemas/${e.entity}`);
    parts.push(emitObjectValidator(`validate${e.entity}Record`, plan), "");
    const paramProps: JsonObject = {};
    for (const { name, object: p } of e.pathParams) {
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
        required: e.pathParams.map((p) => p.name),
      },
      `${e.path} path parameters`,
    );
    parts.push(emitObjectValidator(`validate${e.entity}PathParams`, paramPlan), "");
  }
  parts.push(
    "/** Request-record validators, compiled ahead of time from the spec's entity schemas. */",
    "export const recordValidators: { readonly [E in EntityName]: RecordValidator } = {",
    ...entities.map((e) => `  ${e.entity}: validate${e.entity}Record,`),
    "};",
    "",
    "/** Path-parameter validators (the parameters as one object); issues carry index -1. */",
    "export const pathParamValidators: { readonly [E in EntityName]: RecordValidator } = {",
    ...entities.map((e) => `  ${e.entity}: validate${e.entity}PathParams,`),
    "};",
    "",
  );
  return parts.join("\n");
}
