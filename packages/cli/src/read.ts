// Reading an input file as a stream of rows: CSV (csv-parse), NDJSON (stream-chain's JSONL
// parser), a JSON array (stream-json, parsed incrementally), any of them gzipped, or stdin.
// Nothing is read whole; bytes are counted (for the ETA) and checked for invalid UTF-8 on the way.
import { createHash, type Hash } from "node:crypto";
import { createReadStream, statSync } from "node:fs";
import { extname } from "node:path";
import { pipeline, Readable } from "node:stream";
import { createGunzip } from "node:zlib";
import { CsvError, parse } from "csv-parse";
import jsonlParserStream from "stream-chain/jsonl/parserStream.js";
import streamArray from "stream-json/streamers/stream-array.js";

export type InputFormat = "csv" | "ndjson" | "json";
export const INPUT_FORMATS: readonly InputFormat[] = ["csv", "ndjson", "json"];
export const DELIMITERS: Readonly<Record<string, string>> = {
  ",": ",",
  comma: ",",
  ";": ";",
  semicolon: ";",
  "\t": "\t",
  tab: "\t",
  "\\t": "\t",
  "|": "|",
  pipe: "|",
};

/** A problem with the input itself (unreadable, not the format it claims): exit code 2. */
export class InputError extends Error {
  override name = "InputError";
}

export interface InputRow {
  /** 1-based: the first data row (after a CSV header), the first NDJSON line, the first array element. */
  row: number;
  /** CSV cells. */
  cells?: string[];
  /** NDJSON / JSON value (INVALID_JSON_LINE for an NDJSON line that does not parse). */
  value?: unknown;
  /** Invalid UTF-8 has been seen so far: a U+FFFD in this row's text comes from it. */
  badUtf8: boolean;
}

/** The value of an NDJSON line that is not valid JSON (the line's text is kept in `line`). */
export interface InvalidJsonLine {
  invalidJson: true;
  line: string;
}
export function isInvalidJsonLine(value: unknown): value is InvalidJsonLine {
  return (
    typeof value === "object" && value !== null && (value as InvalidJsonLine).invalidJson === true
  );
}

export interface OpenInputOptions {
  /** A file path, or "-" for stdin. */
  path: string;
  format?: InputFormat | undefined;
  delimiter?: string | undefined;
  /** Hash the bytes while reading (stdin: the file cannot be hashed up front). */
  hashWhileReading?: boolean;
}

export interface OpenedInput {
  format: InputFormat;
  gzip: boolean;
  delimiter: string | undefined;
  /** CSV header cells (as in the file, BOM removed). */
  header: string[] | undefined;
  /** Bytes in the file (compressed size for .gz); undefined for stdin. */
  size: number | undefined;
  /** Bytes read from the file so far. */
  bytesRead(): number;
  /** SHA-256 of what was read, once reading is complete (hashWhileReading only). */
  digest(): string | undefined;
  rows: AsyncIterable<InputRow>;
  /** Stops reading and releases the file. */
  close(): void;
}

/** What the file name says: format and gzip. */
export function formatFromName(path: string): {
  format: InputFormat | undefined;
  gzip: boolean;
  tab: boolean;
} {
  let name = path.toLowerCase();
  const gzip = name.endsWith(".gz");
  if (gzip) name = name.slice(0, -3);
  const ext = extname(name);
  if (ext === ".csv" || ext === ".txt") return { format: "csv", gzip, tab: false };
  if (ext === ".tsv" || ext === ".tab") return { format: "csv", gzip, tab: true };
  if (ext === ".ndjson" || ext === ".jsonl") return { format: "ndjson", gzip, tab: false };
  if (ext === ".json") return { format: "json", gzip, tab: false };
  return { format: undefined, gzip, tab: false };
}

/** The delimiter the header line uses most, outside quotes (`,` when none appears). */
export function detectDelimiter(text: string): string {
  const counts = new Map<string, number>([
    [",", 0],
    [";", 0],
    ["\t", 0],
    ["|", 0],
  ]);
  let quoted = false;
  for (const ch of text) {
    if (ch === '"') quoted = !quoted;
    else if (!quoted && (ch === "\n" || ch === "\r")) break;
    else if (!quoted && counts.has(ch)) counts.set(ch, (counts.get(ch) as number) + 1);
  }
  let best = ",";
  let max = 0;
  for (const [d, n] of counts) {
    if (n > max) {
      best = d;
      max = n;
    }
  }
  return best;
}

/** Takes the first chunk off a byte stream and hands back a stream with it put back. */
async function peek(
  source: AsyncIterable<Buffer>,
): Promise<{ first: Buffer; all: AsyncIterable<Buffer> }> {
  const it = source[Symbol.asyncIterator]();
  const head = await it.next();
  const first = head.done ? Buffer.alloc(0) : head.value;
  async function* all(): AsyncGenerator<Buffer> {
    if (first.length > 0) yield first;
    for (;;) {
      const next = await it.next();
      if (next.done) return;
      yield next.value;
    }
  }
  return { first, all: all() };
}

/** True for a regular file (which can be hashed up front and read again on resume). */
export function isRegularFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/**
 * Iterates a parser's output without losing what it produced before an error (an async
 * iterator drops a stream's buffered rows when the stream fails): rows are queued from 'data'
 * events, with backpressure (pause above 512 queued rows), and the error comes after them.
 */
async function* rowsOf<T>(stream: NodeJS.ReadableStream): AsyncGenerator<T> {
  const queue: T[] = [];
  let head = 0;
  let error: unknown;
  let ended = false;
  let wake: (() => void) | undefined;
  const notify = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  stream.on("data", (row: T) => {
    queue.push(row);
    if (queue.length - head >= 512) stream.pause();
    notify();
  });
  stream.on("error", (e: unknown) => {
    error ??= e;
    notify();
  });
  stream.on("end", () => {
    ended = true;
    notify();
  });
  stream.on("close", () => {
    ended = true;
    notify();
  });
  for (;;) {
    if (head < queue.length) {
      const row = queue[head] as T;
      queue[head++] = undefined as T;
      if (head > 1024 && head * 2 > queue.length) {
        queue.splice(0, head);
        head = 0;
      }
      if (queue.length - head < 128 && stream.isPaused()) stream.resume();
      yield row;
      continue;
    }
    if (error !== undefined) throw error;
    if (ended) return;
    await new Promise<void>((resolve) => {
      wake = resolve;
    });
  }
}

/** SHA-256 and size of a file, read as a stream. */
export async function hashFile(path: string): Promise<{ size: number; sha256: string }> {
  const hash = createHash("sha256");
  let size = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { size, sha256: hash.digest("hex") };
}

function csvMessage(error: unknown): string {
  if (error instanceof CsvError) {
    // csv-parse's own messages may quote the field's content: name the problem and the line only.
    const where = (error as unknown as { lines?: number }).lines;
    const what: Record<string, string> = {
      CSV_QUOTE_NOT_CLOSED: "a quoted field is not closed",
      CSV_INVALID_CLOSING_QUOTE: "a closing quote is followed by other characters",
      CSV_INVALID_OPENING_QUOTE: "a quote appears inside an unquoted field",
      CSV_MAX_RECORD_SIZE: "a row is larger than 16 MiB",
      CSV_RECORD_INCONSISTENT_FIELDS_LENGTH: "a row has a different number of cells",
      CSV_RECORD_INCONSISTENT_COLUMNS: "a row has a different number of cells",
    };
    return `CSV syntax error: ${what[error.code] ?? error.code}${where ? ` (line ${where})` : ""}`;
  }
  return error instanceof Error ? error.message : String(error);
}

/** Opens an input for reading. Throws InputError when it cannot be opened or recognized. */
export async function openInput(options: OpenInputOptions): Promise<OpenedInput> {
  const stdin = options.path === "-";
  let size: number | undefined;
  if (!stdin) {
    try {
      const st = statSync(options.path);
      // A regular file, or a pipe (a FIFO, `<(gunzip -c f)`): only a file has a size.
      if (st.isFile()) size = st.size;
      else if (!st.isFIFO() && !st.isCharacterDevice())
        throw new InputError(`${options.path} is not a file`);
    } catch (error) {
      if (error instanceof InputError) throw error;
      throw new InputError(
        `cannot read ${options.path}: ${(error as NodeJS.ErrnoException).code ?? "error"}`,
      );
    }
  }
  const raw: Readable = stdin
    ? process.stdin
    : createReadStream(options.path, { highWaterMark: 1 << 16 });
  const hash: Hash | undefined = options.hashWhileReading ? createHash("sha256") : undefined;
  let bytes = 0;
  let digest: string | undefined;
  let rawError: unknown;
  async function* counted(): AsyncGenerator<Buffer> {
    try {
      for await (const chunk of raw) {
        bytes += (chunk as Buffer).length;
        hash?.update(chunk as Buffer);
        yield chunk as Buffer;
      }
    } catch (error) {
      rawError = error;
      throw new InputError(
        `reading ${stdin ? "stdin" : options.path} failed: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
      );
    }
    if (hash) digest = hash.digest("hex");
  }
  const named = stdin
    ? { format: undefined, gzip: false, tab: false }
    : formatFromName(options.path);
  const rawPeek = await peek(counted());
  const gzip = named.gzip || (rawPeek.first[0] === 0x1f && rawPeek.first[1] === 0x8b);
  let decoded: AsyncIterable<Buffer> = rawPeek.all;
  if (gzip) {
    const gunzip = createGunzip();
    decoded = pipeline(Readable.from(rawPeek.all, { objectMode: false }), gunzip, () => {});
    decoded = (async function* () {
      try {
        for await (const chunk of gunzip) yield chunk as Buffer;
      } catch (error) {
        if (error instanceof InputError || rawError) throw error;
        throw new InputError(
          `not a valid gzip file (${(error as NodeJS.ErrnoException).code ?? "error"})`,
        );
      }
    })();
  }
  const textPeek = await peek(decoded);
  const head = textPeek.first.toString("utf8", 0, Math.min(textPeek.first.length, 64 * 1024));
  let format = options.format ?? named.format;
  if (format === undefined) {
    const firstChar = head.replace(/^\uFEFF/, "").trimStart()[0];
    format = firstChar === "[" ? "json" : firstChar === "{" ? "ndjson" : "csv";
  }
  let delimiter: string | undefined;
  if (format === "csv") {
    delimiter =
      options.delimiter ?? (named.tab ? "\t" : detectDelimiter(head.replace(/^\uFEFF/, "")));
  }

  // Invalid UTF-8: the parsers decode it as U+FFFD; this flag says whether that happened yet.
  const state = { badUtf8: false };
  async function* checked(): AsyncGenerator<Buffer> {
    const decoder = new TextDecoder("utf-8", { fatal: true });
    for await (const chunk of textPeek.all) {
      if (!state.badUtf8) {
        try {
          decoder.decode(chunk, { stream: true });
        } catch {
          state.badUtf8 = true;
        }
      }
      yield chunk;
    }
    if (!state.badUtf8) {
      try {
        decoder.decode();
      } catch {
        state.badUtf8 = true;
      }
    }
  }
  const source = Readable.from(checked(), { objectMode: false });
  let header: string[] | undefined;
  let rows: AsyncIterable<InputRow>;
  let parser: NodeJS.ReadableStream & { destroy(): void };

  if (format === "csv") {
    const csv = parse({
      bom: true,
      delimiter,
      relax_column_count: true,
      skip_empty_lines: true,
      max_record_size: 16 * 1024 * 1024,
    });
    parser = csv;
    pipeline(source, csv, () => {});
    const it = rowsOf<string[]>(csv);
    let first: IteratorResult<string[]>;
    try {
      first = await it.next();
    } catch (error) {
      if (error instanceof InputError) throw error;
      throw new InputError(csvMessage(error));
    }
    if (first.done) throw new InputError("the file is empty: a CSV file needs a header row");
    header = first.value.map((c) => c.trim());
    if (state.badUtf8 && header.some((c) => c.includes("\uFFFD"))) {
      throw new InputError("the header row is not valid UTF-8 (save the file as UTF-8)");
    }
    rows = (async function* () {
      let row = 0;
      try {
        for (;;) {
          const next = await it.next();
          if (next.done) return;
          yield { row: ++row, cells: next.value, badUtf8: state.badUtf8 };
        }
      } catch (error) {
        if (error instanceof InputError) throw error;
        throw new InputError(`${csvMessage(error)}, after row ${row}`);
      }
    })();
  } else {
    const stream =
      format === "json"
        ? streamArray.withParserAsStream()
        : jsonlParserStream({
            errorIndicator: (_error: Error, line: string) =>
              ({ invalidJson: true, line }) satisfies InvalidJsonLine,
          });
    parser = stream as never;
    pipeline(source, stream, () => {});
    rows = (async function* () {
      let row = 0;
      try {
        for await (const item of rowsOf<{ key: number; value: unknown }>(
          stream as NodeJS.ReadableStream,
        )) {
          yield { row: ++row, value: item.value, badUtf8: state.badUtf8 };
        }
      } catch (error) {
        if (error instanceof InputError) throw error;
        const what = format === "json" ? "JSON" : "NDJSON";
        const message = error instanceof Error ? error.message : String(error);
        throw new InputError(`${what} syntax error (${row} rows read before it): ${message}`);
      }
    })();
  }

  return {
    format,
    gzip,
    delimiter,
    header,
    size,
    bytesRead: () => bytes,
    digest: () => digest,
    rows,
    close() {
      parser.destroy();
      if (!stdin) raw.destroy();
    },
  };
}
