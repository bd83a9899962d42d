// From a file's columns and cells to the records the spec describes: header matching (--map,
// case-insensitive names, unknown column rules), cell conversion by the spec's type and format,
// the empty-cell rule, and the spec's own validators, with every problem named by column.
// Messages never contain cell values (they are health-plan data).
import { validateRecords } from "@vbapi-sdk/client";
import { count } from "./count.ts";
import type { CliEntity, FieldMeta } from "./schema.ts";

/** Columns the CLI adds to failed.csv; ignored on input so a failed file can be fed back. */
export const RESULT_COLUMNS = [
  "_row",
  "_status",
  "_message",
  "_activityId",
  "_mayHaveBeenApplied",
] as const;
const RESULT_COLUMN_SET = new Set<string>(RESULT_COLUMNS.map((c) => c.toLowerCase()));
/** Whether a column is one of RESULT_COLUMNS (any case): the input is a failed file loaded again. */
export function isResultColumn(column: string): boolean {
  return RESULT_COLUMN_SET.has(column.toLowerCase());
}

export type EmptyAs = "auto" | "null" | "absent" | "empty-string";
export const EMPTY_AS: readonly EmptyAs[] = ["auto", "null", "absent", "empty-string"];

export interface ConvertOptions {
  /** Column -> field name (or null: ignore the column). Column names match case-insensitively. */
  map?: Record<string, string | null>;
  ignoreColumns?: readonly string[];
  ignoreUnknownColumns?: boolean;
  emptyAs?: EmptyAs;
  /** Offset given to date-times without one, and to plain dates: `Z` or `±HH:MM`. */
  timezoneOffset?: string;
  /** Path parameters of the batch operation (`providerCredKey`). */
  pathParams?: Record<string, number>;
}

export interface Issue {
  /** The column (CSV header, JSON key) at fault, or "" for the row itself. */
  column: string;
  message: string;
}

export type Target = { kind: "field"; field: FieldMeta } | { kind: "ignore" } | { kind: "unknown" };

const IGNORE: Target = { kind: "ignore" };
const UNKNOWN: Target = { kind: "unknown" };

/** A usage problem with the file's columns or the mapping: stops the run before anything is sent. */
export class ColumnError extends Error {
  override name = "ColumnError";
}

export const OFFSET_PATTERN: RegExp = /^(Z|[+-]\d{2}:\d{2})$/;

export class Converter {
  private readonly targets = new Map<string, Target>();
  private readonly map = new Map<string, string | null>();
  private readonly ignored: Set<string>;
  private readonly emptyAs: EmptyAs;
  private readonly offset: string;

  constructor(
    readonly entity: CliEntity,
    private readonly options: ConvertOptions = {},
  ) {
    for (const [column, field] of Object.entries(options.map ?? {})) {
      if (field !== null && !entity.byLowerName.has(String(field).toLowerCase())) {
        throw new ColumnError(
          `--map: column "${column}" is mapped to "${field}", which is not a field of ${entity.name} (see \`vbapi entities ${entity.name}\`)`,
        );
      }
      this.map.set(column.toLowerCase(), field);
    }
    this.ignored = new Set((options.ignoreColumns ?? []).map((c) => c.toLowerCase()));
    this.emptyAs = options.emptyAs ?? "auto";
    this.offset = options.timezoneOffset ?? "Z";
    if (!OFFSET_PATTERN.test(this.offset)) {
      throw new ColumnError(`--timezone-offset must be Z or ±HH:MM`);
    }
  }

  /** What a column (or JSON key) feeds. */
  target(column: string): Target {
    let target = this.targets.get(column);
    if (target !== undefined) return target;
    const lower = column.trim().toLowerCase();
    const mapped = this.map.get(lower);
    if (mapped === null) target = IGNORE;
    else if (mapped !== undefined) {
      target = {
        kind: "field",
        field: this.entity.byLowerName.get(mapped.toLowerCase()) as FieldMeta,
      };
    } else if (this.ignored.has(lower) || RESULT_COLUMN_SET.has(lower)) target = IGNORE;
    else {
      const field = this.entity.byLowerName.get(lower);
      if (field) target = { kind: "field", field };
      else target = this.options.ignoreUnknownColumns ? IGNORE : UNKNOWN;
    }
    this.targets.set(column, target);
    return target;
  }

  /** Fields a record may lack because the CLI fills them in (a path parameter's record field). */
  private filled(field: string): boolean {
    for (const [param, recordField] of Object.entries(this.entity.recordFieldForPathParam)) {
      if (recordField === field && this.options.pathParams?.[param] !== undefined) return true;
    }
    return false;
  }

  /** Checks a CSV header: unknown or repeated columns, required fields without a column. */
  header(columns: readonly string[]): Target[] {
    const targets = columns.map((c) => this.target(c));
    const problems: string[] = [];
    const unknown = columns.filter((_, i) => targets[i]?.kind === "unknown");
    if (unknown.length > 0) {
      problems.push(
        `unknown column${unknown.length > 1 ? "s" : ""} ${unknown.map((c) => `"${c}"`).join(", ")}: ` +
          `not a field of ${this.entity.name}. Rename with --map mapping.json, or skip with ` +
          `--ignore-column NAME or --ignore-unknown-columns (fields: \`vbapi entities ${this.entity.name}\`)`,
      );
    }
    const seen = new Map<string, string>();
    columns.forEach((column, i) => {
      const t = targets[i];
      if (t?.kind !== "field") return;
      const earlier = seen.get(t.field.name);
      if (earlier !== undefined) {
        problems.push(`columns "${earlier}" and "${column}" both feed field ${t.field.name}`);
      }
      seen.set(t.field.name, column);
    });
    const missing = this.entity.fields.filter(
      (f) => f.required && !seen.has(f.name) && !this.filled(f.name),
    );
    if (missing.length > 0) {
      problems.push(
        `no column for required field${missing.length > 1 ? "s" : ""} ${missing.map((f) => f.name).join(", ")} (use --map to name the column that holds it)`,
      );
    }
    if (problems.length > 0) throw new ColumnError(problems.join("; "));
    return targets;
  }

  /** Converts one CSV row (its cells under `targets`) to a record, or lists what is wrong. */
  fromCells(
    columns: readonly string[],
    targets: readonly Target[],
    cells: readonly string[],
    badUtf8: boolean,
  ): { record: Record<string, unknown>; issues: Issue[] } {
    const record: Record<string, unknown> = {};
    const issues: Issue[] = [];
    if (cells.length !== columns.length) {
      issues.push({
        column: "",
        message: `has ${count(cells.length, "cell")}; the header has ${columns.length}`,
      });
    }
    const n = Math.min(cells.length, targets.length);
    for (let i = 0; i < n; i++) {
      const t = targets[i] as Target;
      if (t.kind !== "field") continue;
      const cell = cells[i] as string;
      if (badUtf8 && cell.includes("\uFFFD")) {
        issues.push({ column: columns[i] as string, message: "is not valid UTF-8" });
        continue;
      }
      this.put(record, t.field, cell, columns[i] as string, issues);
    }
    return this.finish(record, issues, (field) => columnOf(columns, targets, field));
  }

  /** Converts one NDJSON/JSON record: keys matched like headers, string values converted like cells. */
  fromObject(
    value: unknown,
    badUtf8: boolean,
  ): { record: Record<string, unknown>; issues: Issue[] } {
    const record: Record<string, unknown> = {};
    const issues: Issue[] = [];
    if (value === null || typeof value !== "object" || Array.isArray(value)) {
      return { record, issues: [{ column: "", message: "is not a JSON object" }] };
    }
    const sources = new Map<string, string>();
    for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
      const t = this.target(key);
      if (t.kind === "ignore") continue;
      if (t.kind === "unknown") {
        issues.push({
          column: key,
          message: `is not a field of ${this.entity.name} (use --map, --ignore-column or --ignore-unknown-columns)`,
        });
        continue;
      }
      if (sources.has(t.field.name)) {
        issues.push({ column: key, message: `repeats field ${t.field.name}` });
        continue;
      }
      sources.set(t.field.name, key);
      if (typeof v === "string") {
        if (badUtf8 && v.includes("\uFFFD")) {
          issues.push({ column: key, message: "is not valid UTF-8" });
          continue;
        }
        if (t.field.type !== "string" || t.field.format === "date-time" || v === "") {
          this.put(record, t.field, v, key, issues, t.field.type === "string" && v === "");
          continue;
        }
      }
      record[t.field.name] = v;
    }
    return this.finish(record, issues, (field) => sources.get(field) ?? field);
  }

  private finish(
    record: Record<string, unknown>,
    issues: Issue[],
    columnFor: (field: string) => string,
  ): { record: Record<string, unknown>; issues: Issue[] } {
    for (const [param, field] of Object.entries(this.entity.recordFieldForPathParam)) {
      const value = this.options.pathParams?.[param];
      if (value !== undefined && record[field] === undefined) record[field] = value;
    }
    if (issues.length === 0) {
      const found = validateRecords(this.entity.entity, [record], this.options.pathParams as never);
      for (const issue of found) {
        if (issue.index < 0) continue;
        issues.push({
          column: issue.path === "" ? "" : columnFor(issue.path),
          message: issue.message,
        });
      }
    }
    return { record, issues };
  }

  /** Converts one cell into `record[field.name]` or records why it cannot. */
  private put(
    record: Record<string, unknown>,
    field: FieldMeta,
    cell: string,
    column: string,
    issues: Issue[],
    explicitEmptyString = false,
  ): void {
    if (
      cell === "" ||
      ((field.type !== "string" || field.format === "date-time") && cell.trim() === "")
    ) {
      if (explicitEmptyString) {
        record[field.name] = "";
        return;
      }
      const empty = this.empty(field);
      if (empty === REQUIRED)
        issues.push({ column, message: `is empty; ${field.name} is required` });
      else if (empty === NOT_NULLABLE)
        issues.push({ column, message: `is empty; ${field.name} cannot be null` });
      else if (empty !== ABSENT) record[field.name] = empty;
      return;
    }
    const converted = convertCell(field, cell, this.offset);
    if (typeof converted === "object" && converted !== null && "error" in converted) {
      issues.push({ column, message: (converted as { error: string }).error });
    } else record[field.name] = converted;
  }

  private empty(field: FieldMeta): unknown {
    switch (this.emptyAs) {
      case "null":
        return field.nullable ? null : NOT_NULLABLE;
      case "absent":
        return field.required ? REQUIRED : ABSENT;
      case "empty-string":
        if (field.type === "string" && field.format === undefined) return "";
        break;
      case "auto":
        break;
    }
    if (field.required) return REQUIRED;
    return field.nullable ? null : ABSENT;
  }
}

const REQUIRED = Symbol("required");
const NOT_NULLABLE = Symbol("not-nullable");
const ABSENT = Symbol("absent");

function columnOf(columns: readonly string[], targets: readonly Target[], field: string): string {
  const i = targets.findIndex((t) => t.kind === "field" && t.field.name === field);
  return i >= 0 ? (columns[i] as string) : field;
}

const INTEGER = /^[+-]?\d+(?:\.0*)?$/;
const NUMBER = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
const BOOLEANS = new Map<string, boolean>([
  ["true", true],
  ["false", false],
  ["1", true],
  ["0", false],
  ["yes", true],
  ["no", false],
  ["y", true],
  ["n", false],
  ["t", true],
  ["f", false],
]);
const DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?(Z|z|[+-]\d{2}:?\d{2})?)?$/;
const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;

function daysIn(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** One non-empty cell converted by the field's type, or `{ error }` (never naming the value). */
export function convertCell(field: FieldMeta, cell: string, offset = "Z"): unknown {
  const text = field.type === "string" && field.format !== "date-time" ? cell : cell.trim();
  switch (field.type) {
    case "integer": {
      if (!INTEGER.test(text)) return { error: "is not a whole number" };
      const n = Number.parseInt(text, 10);
      if (field.format === "int32" ? n < INT32_MIN || n > INT32_MAX : !Number.isSafeInteger(n)) {
        return { error: `is out of range (${field.format ?? "integer"})` };
      }
      return n;
    }
    case "number": {
      const n = Number(text);
      if (!NUMBER.test(text) || !Number.isFinite(n)) return { error: "is not a number" };
      return n;
    }
    case "boolean": {
      const b = BOOLEANS.get(text.toLowerCase());
      if (b === undefined) return { error: "is not a boolean (true/false, yes/no, 1/0)" };
      return b;
    }
    case "string": {
      if (field.format !== "date-time") return text;
      const m = DATE_TIME.exec(text);
      const bad = {
        error:
          "is not a date or date-time (YYYY-MM-DD, or YYYY-MM-DDTHH:MM[:SS] with or without an offset)",
      };
      if (!m) return bad;
      const [, y, mo, d, hh = "00", mi = "00", ss = "00", frac = "", zone] = m;
      const year = Number(y);
      const month = Number(mo);
      const day = Number(d);
      if (month < 1 || month > 12 || day < 1 || day > daysIn(year, month)) return bad;
      if (Number(hh) > 23 || Number(mi) > 59 || Number(ss) > 59) return bad;
      let z = zone === undefined ? offset : zone.toUpperCase();
      if (z !== "Z" && !z.includes(":")) z = `${z.slice(0, 3)}:${z.slice(3)}`;
      if (z !== "Z" && (Number(z.slice(1, 3)) > 23 || Number(z.slice(4, 6)) > 59)) return bad;
      return `${y}-${mo}-${d}T${hh}:${mi}:${ss}${frac}${z}`;
    }
  }
}
