// Client-side request validation: the generated validators plus the one rule JSON Schema cannot
// say (a record's providerCred_Key must equal the providerCredKey path parameter).
import { type EntityName, type EntityPathParams, entities } from "../generated/entities.ts";
import {
  pathParamValidators,
  recordValidators,
  type ValidationIssue,
} from "../generated/validators.ts";
import { ConfigurationError } from "./errors.ts";
import { keyOf } from "./keys.ts";
import type { BatchItem } from "./types.ts";

/**
 * Every issue of every record (index, field, reason; never the value). Path parameter issues
 * carry index -1. An empty array means the batch is valid.
 */
export function validateRecords<E extends EntityName>(
  entity: E,
  records: readonly unknown[],
  pathParams?: EntityPathParams<E> | Record<string, unknown>,
): ValidationIssue[] {
  const def = entities[entity];
  const validate = recordValidators[entity];
  if (!Object.hasOwn(entities, entity) || !validate) {
    throw new ConfigurationError(`validateRecords: unknown entity ${String(entity).slice(0, 60)}`);
  }
  const issues: ValidationIssue[] = [];
  for (let i = 0; i < records.length; i++) {
    try {
      // Fast path allocates nothing; only an invalid record is checked again to collect its issues.
      if (!validate(records[i], i, null)) validate(records[i], i, issues);
    } catch {
      issues.push({ index: i, path: "", message: "could not be read (a getter threw)" });
    }
  }
  if (def.pathParams.length === 0) return issues;
  const params = pathParams as Record<string, unknown> | undefined;
  if (params === undefined || params === null) {
    issues.push({
      index: -1,
      path: "pathParams",
      message: `are required (${def.pathParams.join(", ")})`,
    });
    return issues;
  }
  const paramIssues: ValidationIssue[] = [];
  pathParamValidators[entity](params, -1, paramIssues);
  for (const issue of paramIssues) issues.push({ ...issue, path: `pathParams.${issue.path}` });
  for (const [param, field] of Object.entries(def.recordFieldForPathParam) as [string, string][]) {
    const expected = params[param];
    for (let i = 0; i < records.length; i++) {
      const record = records[i] as Record<string, unknown> | null;
      if (typeof record !== "object" || record === null) continue;
      let actual: unknown;
      try {
        actual = record[field];
      } catch {
        continue; // reported above: the record could not be read
      }
      if (actual !== undefined && actual !== null && actual !== expected) {
        issues.push({ index: i, path: field, message: `must equal the ${param} path parameter` });
      }
    }
  }
  return issues.sort((a, b) => a.index - b.index);
}

/** One record checked and serialized for sending, or the reason it cannot be sent. */
export type RecordCheck =
  | { ok: true; record: unknown; json: string }
  | { ok: false; issues: ValidationIssue[] };

const UNREADABLE = "could not be read (a getter threw)";
const UNSERIALIZABLE = "could not be serialized (its toJSON or a getter threw)";

/** Issues of one record (index 0), with a getter that throws reported instead of thrown. */
function recordIssues(
  entity: EntityName,
  record: unknown,
  pathParams: unknown,
  validate: boolean,
): ValidationIssue[] {
  if (!validate) return [];
  const def = entities[entity];
  try {
    // Fast path: a valid record of an entity without path parameters allocates nothing.
    if (def.pathParams.length === 0 && recordValidators[entity](record, 0, null)) return [];
    return validateRecords(entity, [record], pathParams as never).filter((i) => i.index >= 0);
  } catch {
    return [{ index: 0, path: "", message: UNREADABLE }];
  }
}

/** Top-level Date values replaced by their ISO 8601 text (what JSON.stringify sends). */
function withIsoDates(record: unknown): unknown {
  if (typeof record !== "object" || record === null || Array.isArray(record)) return record;
  let copy: Record<string, unknown> | undefined;
  for (const [field, value] of Object.entries(record)) {
    if (value instanceof Date) {
      copy ??= { ...record };
      copy[field] = Number.isNaN(value.getTime()) ? value : value.toISOString();
    }
  }
  return copy ?? record;
}

/**
 * Checks one record (when `validate`) and serializes it. A `Date` in a date-time field is
 * accepted and sent as ISO 8601; an invalid Date, a getter or `toJSON` that throws, is an issue
 * of the record (index 0), never an exception.
 */
export function checkRecord(
  entity: EntityName,
  record: unknown,
  pathParams: unknown,
  validate: boolean,
): RecordCheck {
  let issues = recordIssues(entity, record, pathParams, validate);
  let toSend = record;
  if (issues.length > 0 && issues[0]?.message !== UNREADABLE) {
    const normalized = withIsoDates(record);
    if (normalized !== record) {
      const again = recordIssues(entity, normalized, pathParams, validate);
      if (again.length === 0) toSend = normalized;
      issues = again.map((issue) =>
        (record as Record<string, unknown>)[issue.path] instanceof Date
          ? {
              ...issue,
              message: `${issue.message} (a Date object: an invalid date, or not a date-time field)`,
            }
          : issue,
      );
    }
  }
  if (issues.length > 0) return { ok: false, issues };
  try {
    // In an array body, what JSON.stringify leaves out (undefined, functions) becomes null.
    return { ok: true, record: toSend, json: JSON.stringify(toSend) ?? "null" };
  } catch {
    return { ok: false, issues: [{ index: 0, path: "", message: UNSERIALIZABLE }] };
  }
}

/** The records of one batch, checked and serialized (see upsertBatch's `validate` option). */
export interface PreparedRecords<K> {
  /** The records to send, and their JSON array. */
  records: unknown[];
  json: string;
  /** The caller's index of each record sent, when some were refused. */
  indices: number[] | undefined;
  /** Records refused ("skip-invalid"), as failed items. */
  refused: BatchItem<K>[];
  /** Issues that reject the whole batch (raise them as a ValidationError). */
  issues: ValidationIssue[];
}

export function prepareRecords<K>(
  entity: EntityName,
  records: readonly unknown[],
  pathParams: unknown,
  mode: boolean | "skip-invalid",
): PreparedRecords<K> {
  const def = entities[entity];
  const out: PreparedRecords<K> = {
    records: [],
    json: "",
    indices: undefined,
    refused: [],
    issues: [],
  };
  const validate = mode !== false;
  if (validate && def.pathParams.length > 0) {
    const pathIssues = validateRecords(entity, [], pathParams as never);
    if (pathIssues.length > 0) {
      out.issues = pathIssues;
      return out;
    }
  }
  // The common case in one pass each: every record valid as it is, then one JSON.stringify of
  // the array (what it leaves out becomes null, as record by record). Anything else (an invalid
  // record, a Date to normalize, a record that cannot be serialized) takes the path below,
  // which finds and names each one.
  // A toJSON (of a record, its class, or the array) may send other values than were validated:
  // such batches take the per-record path, which checks what each record serializes to.
  const plain = def.pathParams.length === 0;
  const validator = recordValidators[entity];
  let allValid = true;
  try {
    allValid = typeof (records as { toJSON?: unknown }).toJSON !== "function";
    for (let i = 0; i < records.length && allValid; i++) {
      const record = records[i];
      // A toJSON getter that throws is found below (the record cannot be serialized).
      allValid =
        typeof (record as { toJSON?: unknown } | null)?.toJSON !== "function" &&
        (!validate ||
          (plain
            ? validator(record, i, null)
            : recordIssues(entity, record, pathParams, true).length === 0));
    }
  } catch {
    allValid = false;
  }
  if (allValid) {
    try {
      out.json = JSON.stringify(records);
      out.records = records.slice();
      return out;
    } catch {
      // A getter or toJSON that throws: found below, record by record.
    }
  }
  const parts: string[] = [];
  const indices: number[] = [];
  for (let i = 0; i < records.length; i++) {
    const check = checkRecord(entity, records[i], pathParams, validate);
    if (check.ok) {
      out.records.push(check.record);
      parts.push(check.json);
      indices.push(i);
      continue;
    }
    const issues = check.issues.map((issue) => ({ ...issue, index: i }));
    if (mode === "skip-invalid") {
      out.refused.push({
        index: i,
        key: keyOf<K>(records[i], def.keys),
        status: 0,
        outcome: "failed",
        message: `invalid: ${issues.map((x) => (x.path ? `${x.path}: ${x.message}` : x.message)).join("; ")}`,
      });
    } else {
      out.issues.push(...issues);
    }
  }
  out.json = `[${parts.join(",")}]`;
  if (out.refused.length > 0) out.indices = indices;
  return out;
}
