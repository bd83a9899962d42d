// Turns VBA's 207 answer into one BatchItem per input record, in input order.
//
// The rule: a record counts as created or updated only when an entry carrying its own key says
// so. Entries are matched to records by key (names compared loosely, values as in keys.ts);
// the common case, entries in input order, is checked position by position first. Matching by
// position alone happens only when NO entry carries a usable key and the counts agree. An entry
// whose key names no record of the request (or one already matched) is ignored and counted in
// `unmatchedEntries`; a record no entry reported on fails with status 0. A key reported more often
// than the request holds it, once as saved and once as not, leaves its records' outcome unknown:
// they fail with status 0 (never "saved" on the strength of the first of two answers).

import { keyIdOf, keyIdOfValues, keyOf, keyPart } from "../base/keys.ts";
import type { BatchItem, BatchResult, Outcome } from "../base/types.ts";

/** One entry of VBA's `data` array, as loosely as it may arrive. */
export interface MultiCodeEntry {
  id?: readonly { key?: string | null; value?: unknown }[] | null;
  status?: number;
  body?: string | null;
}

export const NOT_REPORTED_MESSAGE =
  "VBA's answer did not report on this record; its outcome is unknown";

export const CONFLICTING_MESSAGE =
  "VBA's answer says this record was saved and also that it was not; its outcome is unknown";

export function outcomeOf(status: number): Outcome {
  if (status === 201) return "created";
  if (status === 200) return "updated";
  return "failed";
}

/** Normalized key names seen so far: VBA repeats the same few names in every entry. */
const NAMES = new Map<string, string>();

/** Key names compared loosely: case and punctuation ignored. */
function normName(name: string): string {
  let normalized = NAMES.get(name);
  if (normalized === undefined) {
    normalized = name.toLowerCase().replace(/[^a-z0-9]/g, "");
    if (NAMES.size < 1_000) NAMES.set(name, normalized);
  }
  return normalized;
}

/** The key identity an entry carries, or undefined when it carries no usable key. */
function entryKeyId(entry: unknown, fields: readonly string[]): string | undefined {
  if (typeof entry !== "object" || entry === null) return undefined;
  const id = (entry as MultiCodeEntry).id;
  if (!Array.isArray(id) || id.length === 0) return undefined;
  // Built as keyIdOfValues builds it, without an array of the values.
  let out = "";
  for (const field of fields) {
    // The last pair with the field's name counts.
    let p = id.length - 1;
    for (; p >= 0; p--) {
      const pair = id[p];
      if (pair && typeof pair.key === "string" && normName(pair.key) === field) break;
    }
    if (p < 0) {
      // Names unusable: take the values in order when there is one per key field.
      return id.length === fields.length
        ? keyIdOfValues(id.map((pair) => (pair as { value?: unknown } | null)?.value))
        : undefined;
    }
    const part = keyPart(id[p]?.value);
    if (fields.length === 1) return part;
    out += `${part}\u0000`;
  }
  return out;
}

export interface MatchOptions<K> {
  /** The caller's index for each record (defaults to its position in `records`). */
  indices?: readonly number[] | undefined;
  /** The records' keys, when the caller has them already (the bulk engine does). */
  keys?: readonly K[] | undefined;
}

export interface Matched<K> {
  /** One item per record, in the order of `records`. */
  items: BatchItem<K>[];
  /** Entries that named no record of the request, or a record already reported on: ignored. */
  unmatchedEntries: number;
}

/**
 * VBA's usual per-record messages (and the SDK's stand-ins for an empty body): kept once, not
 * once per record, by the bulk ledger; no record value is looked for in them.
 */
export const USUAL_MESSAGES: ReadonlyMap<string, string> = new Map(
  ["Created", "Updated", "HTTP 200", "HTTP 201"].map((m) => [m, m] as const),
);

function itemOf<K>(index: number, key: K, entry: MultiCodeEntry | undefined): BatchItem<K> {
  if (entry === undefined)
    return { index, key, status: 0, outcome: "failed", message: NOT_REPORTED_MESSAGE };
  const status = typeof entry.status === "number" ? entry.status : 0;
  const message =
    typeof entry.body === "string" && entry.body !== "" ? entry.body : `HTTP ${status}`;
  return { index, key, status, outcome: outcomeOf(status), message };
}

/** Key names normalized, per key-field list (the entity table's lists live as long as the process). */
const FIELDS = new WeakMap<readonly string[], readonly string[]>();

/** Matches a 207's entries to the records of the request (see the file comment). */
export function matchItems<K = Record<string, unknown>>(
  records: readonly unknown[],
  keyFields: readonly string[],
  data: readonly unknown[] | null | undefined,
  options: MatchOptions<K> = {},
): Matched<K> {
  const entries = Array.isArray(data) ? data : [];
  let fields = FIELDS.get(keyFields);
  if (fields === undefined) {
    fields = keyFields.map(normName);
    FIELDS.set(keyFields, fields);
  }
  const n = records.length;
  const given = options.keys;
  const indices = options.indices;
  const keyAt = (i: number) => (given ? (given[i] as K) : keyOf<K>(records[i], keyFields));
  const items: BatchItem<K>[] = new Array(n);
  // Fast path, no array but the items: entry j carries record j's key.
  let inOrder = 0;
  const m = Math.min(entries.length, n);
  for (; inOrder < m; inOrder++) {
    const entryId = entryKeyId(entries[inOrder], fields);
    if (entryId === undefined) break;
    const key = keyAt(inOrder);
    if (entryId !== keyIdOf(key as Record<string, unknown>, keyFields)) break;
    items[inOrder] = itemOf(indices?.[inOrder] ?? inOrder, key, entries[inOrder] as MultiCodeEntry);
  }
  let unmatchedEntries = 0;
  if (inOrder < entries.length || inOrder < n) {
    // The rest: by key, or by position when no entry carries a key.
    const rest = matchRest(records, entries, inOrder, fields, keyFields, keyAt);
    unmatchedEntries = rest.unmatchedEntries;
    for (let i = inOrder; i < n; i++) {
      items[i] = itemOf(indices?.[i] ?? i, rest.keys[i - inOrder] as K, rest.assigned[i - inOrder]);
    }
  }
  if (unmatchedEntries > 0) markConflicts(items, entries, fields, keyFields);
  return { items, unmatchedEntries };
}

/**
 * The rare path (some entry was left over): a key the answer names more often than the request
 * holds it, with entries that disagree on whether it was saved, makes its records unknown.
 */
function markConflicts<K>(
  items: BatchItem<K>[],
  entries: readonly unknown[],
  fields: readonly string[],
  keyFields: readonly string[],
): void {
  const records = new Map<string, number[]>();
  items.forEach((item, i) => {
    const id = keyIdOf(item.key as Record<string, unknown>, keyFields);
    const list = records.get(id);
    if (list) list.push(i);
    else records.set(id, [i]);
  });
  const reported = new Map<string, { count: number; saved: boolean; notSaved: boolean }>();
  // A failure no entry's key attributes, beside more entries than records: any record of the
  // request may be the one it is about.
  let unattributedFailure = false;
  for (const entry of entries) {
    const id = entryKeyId(entry, fields);
    const status = (entry as MultiCodeEntry | null)?.status;
    const saved = outcomeOf(typeof status === "number" ? status : 0) !== "failed";
    if (id === undefined) {
      if (typeof status === "number" && !saved && entries.length > items.length)
        unattributedFailure = true;
      continue;
    }
    if (!records.has(id)) continue;
    const seen = reported.get(id) ?? { count: 0, saved: false, notSaved: false };
    seen.count++;
    if (saved) seen.saved = true;
    else seen.notSaved = true;
    reported.set(id, seen);
  }
  for (const [id, seen] of reported) {
    const list = records.get(id) ?? [];
    const conflict = seen.count > list.length && seen.saved && seen.notSaved;
    for (const i of list) {
      const item = items[i] as BatchItem<K>;
      if (!conflict && !(unattributedFailure && item.outcome !== "failed")) continue;
      items[i] = { ...item, status: 0, outcome: "failed", message: CONFLICTING_MESSAGE };
    }
  }
}

/** Entries and records from `from` on, after the in-order prefix (relative indices). */
function matchRest<K>(
  records: readonly unknown[],
  entries: readonly unknown[],
  from: number,
  fields: readonly string[],
  keyFields: readonly string[],
  keyAt: (i: number) => K,
): { keys: K[]; assigned: (MultiCodeEntry | undefined)[]; unmatchedEntries: number } {
  const keys: K[] = [];
  for (let i = from; i < records.length; i++) keys.push(keyAt(i));
  const assigned: (MultiCodeEntry | undefined)[] = new Array(keys.length);
  const entryIds = entries.map((entry, j) => (j < from ? "" : entryKeyId(entry, fields)));
  let unmatchedEntries = 0;
  if (from === 0 && entryIds.every((id) => id === undefined)) {
    // No entry says which record it is about: position is all there is, and only when the
    // counts agree; otherwise nothing can be attributed.
    if (entries.length !== records.length)
      return { keys, assigned, unmatchedEntries: entries.length };
    entries.forEach((entry, j) => {
      if (typeof entry === "object" && entry !== null) assigned[j] = entry as MultiCodeEntry;
      else unmatchedEntries++;
    });
    return { keys, assigned, unmatchedEntries };
  }
  // By key; duplicates of a key are matched in order.
  const byKey = new Map<string, number[]>();
  keys.forEach((key, i) => {
    const id = keyIdOf(key as Record<string, unknown>, keyFields);
    const queue = byKey.get(id);
    if (queue) queue.push(i);
    else byKey.set(id, [i]);
  });
  for (let j = from; j < entries.length; j++) {
    const id = entryIds[j];
    const i = id === undefined ? undefined : byKey.get(id)?.shift();
    if (i === undefined) unmatchedEntries++;
    else assigned[i] = entries[j] as MultiCodeEntry;
  }
  return { keys, assigned, unmatchedEntries };
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
