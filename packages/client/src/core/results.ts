// Turns VBA's 207 answer into one BatchItem per input record, in input order.
// Entries are matched to records by key values (key names compared case-insensitively, values
// compared as strings so 5 and "5" match); duplicates of a key are matched in order; an entry
// without usable key values falls back to its position. A record nobody reported on is failed.
import type { BatchItem, BatchResult, Outcome } from "../types.js";

/** One entry of VBA's `data` array, as loosely as it may arrive. */
export interface MultiCodeEntry {
  id?: readonly { key?: string | null; value?: unknown }[] | null;
  status?: number;
  body?: string | null;
}

export const NOT_REPORTED_MESSAGE =
  "VBA's answer did not report on this record; its outcome is unknown";

export function outcomeOf(status: number): Outcome {
  if (status === 201) return "created";
  if (status === 200) return "updated";
  return "failed";
}

/** The key fields of a record, in `keyFields` order. */
export function keyOf<K = Record<string, unknown>>(
  record: unknown,
  keyFields: readonly string[],
): K {
  const key: Record<string, unknown> = {};
  const r = (typeof record === "object" && record !== null ? record : {}) as Record<
    string,
    unknown
  >;
  for (const field of keyFields) key[field] = r[field];
  return key as K;
}

function norm(value: unknown): string {
  return typeof value === "string" ? value.trim() : JSON.stringify(value ?? null);
}

function keyPart(v: unknown): string {
  return `${typeof v === "number" ? String(v) : norm(v)}\u0000`;
}

/** A string identifying a key tuple: equal for 5 and "5". */
export function keyString(values: readonly unknown[]): string {
  let s = "";
  for (const v of values) s += keyPart(v);
  return s;
}

/** Key names compared loosely: case and punctuation ignored. */
function normName(name: string, cache: Map<string, string>): string {
  let n = cache.get(name);
  if (n === undefined) {
    n = name.toLowerCase().replace(/[^a-z0-9]/g, "");
    cache.set(name, n);
  }
  return n;
}

function entryKeyString(
  entry: MultiCodeEntry,
  fields: readonly string[],
  names: Map<string, string>,
): string | undefined {
  const id = entry.id;
  if (!Array.isArray(id) || id.length === 0) return undefined;
  let s = "";
  for (const field of fields) {
    // The last pair with the field's name counts.
    let p = id.length - 1;
    for (; p >= 0; p--) {
      const pair = id[p];
      if (pair && typeof pair.key === "string" && normName(pair.key, names) === field) break;
    }
    if (p < 0) {
      // Names unusable: take the values in order when there is one per key field.
      return id.length === fields.length ? keyString(id.map((pair) => pair?.value)) : undefined;
    }
    s += keyPart(id[p]?.value);
  }
  return s;
}

export interface MatchOptions {
  /** The caller's index for each record (defaults to its position in `records`). */
  indices?: readonly number[];
}

/** One item per record, in the order of `records`. */
export function matchItems<K = Record<string, unknown>>(
  records: readonly unknown[],
  keyFields: readonly string[],
  data: readonly MultiCodeEntry[] | null | undefined,
  options: MatchOptions = {},
): BatchItem<K>[] {
  const entries = Array.isArray(data) ? data : [];
  const assigned: (MultiCodeEntry | undefined)[] = new Array(records.length).fill(undefined);
  const byKey = new Map<string, number[]>();
  const names = new Map<string, string>();
  const fields = keyFields.map((f) => normName(f, names));
  records.forEach((record, i) => {
    const r = (record ?? {}) as Record<string, unknown>;
    let k = "";
    for (const f of keyFields) k += keyPart(r[f]);
    const list = byKey.get(k);
    if (list) list.push(i);
    else byKey.set(k, [i]);
  });
  const leftovers: number[] = [];
  entries.forEach((entry, j) => {
    const k = entry && typeof entry === "object" ? entryKeyString(entry, fields, names) : undefined;
    const queue = k === undefined ? undefined : byKey.get(k);
    const i = queue?.shift();
    if (i !== undefined) assigned[i] = entry;
    else leftovers.push(j);
  });
  // Entries that matched no key: fall back to position.
  for (const j of leftovers) {
    const entry = entries[j];
    if (j < records.length && assigned[j] === undefined && entry && typeof entry === "object") {
      assigned[j] = entry;
    }
  }
  return records.map((record, i) => {
    const entry = assigned[i];
    const index = options.indices?.[i] ?? i;
    const key = keyOf<K>(record, keyFields);
    if (!entry)
      return { index, key, status: 0, outcome: "failed" as const, message: NOT_REPORTED_MESSAGE };
    const status = typeof entry.status === "number" ? entry.status : 0;
    const message =
      typeof entry.body === "string" && entry.body !== "" ? entry.body : `HTTP ${status}`;
    return { index, key, status, outcome: outcomeOf(status), message };
  });
}

/** Counts and wraps items (already in input order) as a BatchResult. */
export function toBatchResult<K>(
  items: BatchItem<K>[],
  activityId: string | undefined,
): BatchResult<K> {
  let succeeded = 0;
  for (const item of items) if (item.outcome !== "failed") succeeded++;
  return { items, succeeded, failed: items.length - succeeded, activityId };
}
