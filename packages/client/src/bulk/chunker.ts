/**
 * Chunking by record count and by serialized bytes.
 *
 * A chunk is the body of one batch request: a JSON array. Its size in bytes is
 * `2 + sum(record bytes) + (records - 1)` (brackets and commas). A record whose own size
 * exceeds `maxChunkBytes` is sent alone, in a chunk of one: the byte limit is a grouping
 * target, not a server limit (VBA publishes none), and the server is the judge of whether
 * it accepts the record.
 */
import { ConfigurationError } from "../base/errors.ts";
import { type BulkInput, openSource } from "./source.ts";

/** Limits of one chunk. */
export interface ChunkLimits {
  /** Maximum records per request. */
  chunkSize: number;
  /** Maximum serialized body size per request, in bytes (UTF-8), unless one record is larger. */
  maxChunkBytes: number;
}

export const DEFAULT_CHUNK_SIZE = 500;
export const DEFAULT_MAX_CHUNK_BYTES = 1024 * 1024;

/** Serialized size of a record in UTF-8 bytes, as it appears in the JSON array body. */
export function serializedBytes(record: unknown): number {
  const json = JSON.stringify(record);
  return json === undefined ? 4 : utf8Length(json);
}

const nodeBuffer = (
  globalThis as { Buffer?: { byteLength(text: string, encoding: "utf8"): number } }
).Buffer;

/** UTF-8 length of a string without allocating (works outside Node too). */
export function utf8Length(text: string): number {
  // Node's native count gives the same figure (a lone surrogate counts as U+FFFD, 3 bytes).
  if (nodeBuffer !== undefined) return nodeBuffer.byteLength(text, "utf8");
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) bytes += 1;
    else if (code < 0x800) bytes += 2;
    else if (code >= 0xd800 && code <= 0xdbff && i + 1 < text.length) {
      const low = text.charCodeAt(i + 1);
      if (low >= 0xdc00 && low <= 0xdfff) {
        bytes += 4;
        i++;
      } else bytes += 3;
    } else bytes += 3;
  }
  return bytes;
}

/** Checks and normalizes chunk limits; throws a `ConfigurationError` on nonsense values. */
export function normalizeLimits(limits: Partial<ChunkLimits> = {}): ChunkLimits {
  const chunkSize = limits.chunkSize ?? DEFAULT_CHUNK_SIZE;
  const maxChunkBytes = limits.maxChunkBytes ?? DEFAULT_MAX_CHUNK_BYTES;
  if (!Number.isInteger(chunkSize) || chunkSize < 1) {
    throw new ConfigurationError("upsertAll: chunkSize must be an integer >= 1");
  }
  if (!Number.isFinite(maxChunkBytes) || maxChunkBytes < 3) {
    throw new ConfigurationError("upsertAll: maxChunkBytes must be a number >= 3");
  }
  return { chunkSize, maxChunkBytes };
}

/** Accumulates one chunk, enforcing both limits. */
export class ChunkBuilder<T> {
  readonly items: T[] = [];
  private bodyBytes = 2;

  constructor(private readonly limits: ChunkLimits) {}

  /** Serialized size of the chunk body so far. */
  get bytes(): number {
    return this.bodyBytes;
  }

  get size(): number {
    return this.items.length;
  }

  /** True when no further record can be added, whatever its size. */
  get full(): boolean {
    return this.items.length >= this.limits.chunkSize;
  }

  /** Whether a record of `bytes` serialized bytes may join: an empty chunk takes any record. */
  fits(bytes: number): boolean {
    if (this.full) return false;
    if (this.items.length === 0) return true;
    return this.bodyBytes + 1 + bytes <= this.limits.maxChunkBytes;
  }

  add(item: T, bytes: number): void {
    this.bodyBytes += (this.items.length === 0 ? 0 : 1) + bytes;
    this.items.push(item);
  }
}

/**
 * Splits any input into chunks lazily: at most one chunk plus one record is held at a time.
 * Used on its own for plain chunking; the bulk engine uses {@link ChunkBuilder} directly
 * because it also mixes re-sent records into chunks.
 */
export async function* chunkRecords<T>(
  input: BulkInput<T>,
  limits: Partial<ChunkLimits> = {},
  measure: (record: T) => number = serializedBytes,
): AsyncGenerator<T[], void, undefined> {
  const normalized = normalizeLimits(limits);
  const source = openSource(input);
  let builder = new ChunkBuilder<T>(normalized);
  try {
    for (;;) {
      const next = await source.next();
      if (next.done) break;
      const bytes = measure(next.value);
      if (!builder.fits(bytes)) {
        yield builder.items;
        builder = new ChunkBuilder<T>(normalized);
      }
      builder.add(next.value, bytes);
      if (builder.full) {
        yield builder.items;
        builder = new ChunkBuilder<T>(normalized);
      }
    }
    if (builder.size > 0) yield builder.items;
  } finally {
    await source.close();
  }
}
