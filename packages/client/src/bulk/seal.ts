// A chunk's JSON. The records of an array that a driver left unserialized (`Prepared` without
// `json`) are serialized together, with one JSON.stringify of their array, not one call per
// record (measured: a call per record costs about twice the CPU, and more garbage). What the
// per-record calls gave is kept: a record that cannot be serialized fails alone (the chunk is
// then serialized record by record); the byte limit is exact (a chunk over it is cut record by
// record, where it would have been cut); and a record's own JSON, needed only when it is sent
// again (a retry, a half of a refused batch), is cut out of its chunk's text, exactly.
// Between a record's check and its chunk's serialization only the run's own code runs (and the
// caller's callbacks for records failed meanwhile); inputs that are not arrays are serialized
// record by record as they are read (records.ts, `prepare`).
import { BulkAccountingError } from "../base/errors.ts";
import { UNSERIALIZABLE } from "../base/validate.ts";
import { ChunkBuilder, type ChunkLimits, utf8Length } from "./chunker.ts";
import type { BulkLedger } from "./ledger.ts";
import type { Pending } from "./records.ts";

/** Records serialized together: `text` is the JSON array of `count` records. */
export interface JsonBatch {
  text: string;
  count: number;
  /** Each record's own JSON, cut out of `text` the first time one is needed. */
  parts?: string[] | undefined;
}

/** The elements of a JSON array as JSON.stringify wrote it (no whitespace), in order. */
export function splitJsonArray(text: string, count: number): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 1;
  let inString = false;
  for (let i = 1; i < text.length - 1; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // a backslash: the next character is escaped
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) depth++;
    else if (c === 0x7d || c === 0x5d) depth--;
    else if (c === 0x2c && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  if (text.length > 2) parts.push(text.slice(start, text.length - 1));
  if (parts.length !== count || `[${parts.join(",")}]` !== text) {
    throw new BulkAccountingError(`a chunk's JSON did not split into its ${count} record(s)`);
  }
  return parts;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Gives a record of a batch its own JSON (a copy, so a record waiting for a re-send does not
 * hold its whole chunk's text) and its size in bytes; returns the size.
 */
export function materialize<R, K>(pending: Pending<R, K>): number {
  const batch = pending.batch;
  if (pending.json === undefined && batch !== undefined) {
    batch.parts ??= splitJsonArray(batch.text, batch.count);
    const bytes = encoder.encode(batch.parts[pending.slot]);
    pending.json = decoder.decode(bytes);
    pending.bytes = bytes.length;
    pending.batch = undefined;
  }
  if (pending.json === undefined) throw new BulkAccountingError("a record was sent unserialized");
  return pending.bytes;
}

/** Serializes one record on its own; false when it cannot be (it is failed here). */
export function serializeAlone<R, K>(ledger: BulkLedger<K>, pending: Pending<R, K>): boolean {
  try {
    // In an array body, what JSON.stringify leaves out (undefined, functions) becomes null.
    pending.json = JSON.stringify(pending.value) ?? "null";
  } catch {
    ledger.fail(pending.index, 0, `invalid record, not sent: ${UNSERIALIZABLE}`);
    return false;
  }
  pending.bytes = utf8Length(pending.json);
  pending.value = undefined;
  return true;
}

/** A chunk made ready to send; `failed` could not be serialized, `rest` did not fit (in order). */
export interface Sealed<R, K> {
  chunk: Pending<R, K>[];
  failed: Pending<R, K>[];
  rest: Pending<R, K>[];
}

/**
 * Serializes the records of `items` that have no JSON yet, in one go when they all can be and
 * the chunk stays within the byte limit; otherwise record by record, cutting the chunk where
 * the limit says (as when each record's size was known on the way in).
 */
export function sealChunk<R, K>(
  items: Pending<R, K>[],
  limits: ChunkLimits,
  ledger: BulkLedger<K>,
): Sealed<R, K> {
  const lazy: Pending<R, K>[] = [];
  let known = 0;
  for (const pending of items) {
    if (pending.json === undefined) lazy.push(pending);
    else known += pending.bytes;
  }
  if (lazy.length === 0) return { chunk: items, failed: [], rest: [] };
  const values = lazy.map((pending) => pending.value);
  let text: string | undefined;
  try {
    // An Array.prototype.toJSON (a polluted global) would serialize something else.
    if (typeof (values as { toJSON?: unknown }).toJSON !== "function") {
      text = JSON.stringify(values);
    }
  } catch {
    // Some record cannot be serialized: found below, record by record.
  }
  if (text !== undefined) {
    // The body: the batch's text, the other records' JSON and a comma before each of them.
    const body = utf8Length(text) + known + (items.length - lazy.length);
    if (body <= limits.maxChunkBytes || items.length === 1) {
      const batch: JsonBatch = { text, count: lazy.length };
      lazy.forEach((pending, slot) => {
        pending.batch = batch;
        pending.slot = slot;
        pending.value = undefined;
      });
      return { chunk: items, failed: [], rest: [] };
    }
  }
  // Each record's own JSON: cut out of the text when there is one, else serialized alone.
  const batch: JsonBatch | undefined =
    text === undefined ? undefined : { text, count: lazy.length };
  const sealed: Sealed<R, K> = { chunk: [], failed: [], rest: [] };
  const builder = new ChunkBuilder<Pending<R, K>>(limits);
  let slot = 0;
  for (const pending of items) {
    if (pending.json === undefined) {
      if (batch !== undefined) {
        pending.batch = batch;
        pending.slot = slot++;
        pending.value = undefined;
        materialize(pending);
      } else if (!serializeAlone(ledger, pending)) {
        sealed.failed.push(pending);
        continue;
      }
    }
    if (sealed.rest.length > 0 || !builder.fits(pending.bytes)) {
      sealed.rest.push(pending);
      continue;
    }
    builder.add(pending, pending.bytes);
    sealed.chunk.push(pending);
  }
  return sealed;
}
