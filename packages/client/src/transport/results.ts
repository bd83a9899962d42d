// Turns VBA's 207 answer into one BatchItem per input record, in input order.
//
// The rule: a record counts as created or updated only when an entry carrying its own key says
// so. Entries are matched to records by key (names compared loosely, values as in keys.ts);
// the common case, entries in input order, is checked position by position first. Matching by
// position alone happens only when NO entry carries a usable key and the counts agree. An entry
// whose key names no record of the request (or one already matched) is ignored and counted in
// `unmatchedEntries`; a record no entry reported on fails with status 0.

import { keyIdOf, keyIdOfValues, keyOf } from "../base/keys.ts";
import { clip } from "../base/redact.ts";
import type { BatchItem, BatchResult, Outcome } from "../base/types.ts";

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
  const values: unknown[] = [];
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
    values.push(id[p]?.value);
  }
  return keyIdOfValues(values);
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

function itemOf<K>(index: number, key: K, entry: MultiCodeEntry | undefined): BatchItem<K> {
  if (entry === undefined)
    return { index, key, status: 0, outcome: "failed", message: NOT_REPORTED_MESSAGE };
  const status = typeof entry.status === "number" ? entry.status : 0;
  const message =
    typeof entry.body === "string" && entry.body !== "" ? clip(entry.body) : `HTTP ${status}`;
  return { index, key, status, outcome: outcomeOf(status), message };
}

/** Matches a 207's entries to the records of the request (see the file comment). */
export function matchItems<K = Record<string, unknown>>(
  records: readonly unknown[],
  keyFields: readonly string[],
  data: readonly unknown[] | null | undefined,
  options: MatchOptions<K> = {},
): Matched<K> {
  const entries = Array.isArray(data) ? data : [];
  const fields = keyFields.map(normName);
  const keys = options.keys ?? records.map((record) => keyOf<K>(record, keyFields));
  const recordIds = keys.map((key) => keyIdOf(key as Record<string, unknown>, keyFields));
  const entryIds = entries.map((entry) => entryKeyId(entry, fields));
  const assigned: (MultiCodeEntry | undefined)[] = new Array(records.length);
  let unmatchedEntries = 0;

  if (entryIds.every((id) => id === undefined)) {
    // No entry says which record it is about: position is all there is, and only when the
    // counts agree; otherwise nothing can be attributed.
    if (entries.length === records.length) {
      entries.forEach((entry, j) => {
        if (typeof entry === "object" && entry !== null) assigned[j] = entry as MultiCodeEntry;
        else unmatchedEntries++;
      });
    } else {
      unmatchedEntries = entries.length;
    }
  } else {
    // Fast path: entry j carries record j's key.
    let inOrder = 0;
    const n = Math.min(entries.length, records.length);
    while (inOrder < n && entryIds[inOrder] === recordIds[inOrder]) {
      assigned[inOrder] = entries[inOrder] as MultiCodeEntry;
      inOrder++;
    }
    if (inOrder < entries.length) {
      // The rest by key; duplicates of a key are matched in order.
      const byKey = new Map<string, number[]>();
      for (let i = inOrder; i < records.length; i++) {
        const id = recordIds[i] as string;
        const queue = byKey.get(id);
        if (queue) queue.push(i);
        else byKey.set(id, [i]);
      }
      for (let j = inOrder; j < entries.length; j++) {
        const id = entryIds[j];
        const i = id === undefined ? undefined : byKey.get(id)?.shift();
        if (i === undefined) unmatchedEntries++;
        else assigned[i] = entries[j] as MultiCodeEntry;
      }
    }
  }
  const items = records.map((_, i) =>
    itemOf<K>(options.indices?.[i] ?? i, keys[i] as K, assigned[i]),
  );
  return { items, unmatchedEntries };
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
