// The row parsers behind an input: CSV (csv-parse), NDJSON (stream-chain's JSONL parser) and a
// JSON array (stream-json, parsed incrementally). Each numbers its rows from 1 and turns a
// syntax error into an InputError that names the line or the rows read before it. Each parser
// is loaded when a file of its format is opened (a CSV load never loads stream-json).
import { pipeline, type Readable } from "node:stream";
import { count } from "../count.ts";
import { rowsOf } from "./streams.ts";
import { InputError, type InputRow, type InvalidJsonLine } from "./types.ts";

export interface ParsedRows {
  /** CSV header cells (trimmed); undefined for JSON and NDJSON. */
  header: string[] | undefined;
  rows: AsyncIterable<InputRow>;
  /** The parser stream, to destroy when reading stops early. */
  parser: { destroy(): void };
}

/** Whether invalid UTF-8 has been seen so far (set by `checkUtf8`). */
type Utf8State = { readonly badUtf8: boolean };

function csvMessage(error: unknown, CsvError: typeof import("csv-parse").CsvError): string {
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

/** Parses CSV: reads the header row at once (an empty file is an error), then streams the rows. */
export async function csvRows(
  source: Readable,
  delimiter: string | undefined,
  utf8: Utf8State,
): Promise<ParsedRows> {
  const { CsvError, parse } = await import("csv-parse");
  const csv = parse({
    bom: true,
    delimiter,
    relax_column_count: true,
    skip_empty_lines: true,
    max_record_size: 16 * 1024 * 1024,
  });
  pipeline(source, csv, () => {});
  const it = rowsOf<string[]>(csv);
  let first: IteratorResult<string[]>;
  try {
    first = await it.next();
  } catch (error) {
    if (error instanceof InputError) throw error;
    throw new InputError(csvMessage(error, CsvError));
  }
  if (first.done) throw new InputError("the file is empty: a CSV file needs a header row");
  const header = first.value.map((c) => c.trim());
  if (utf8.badUtf8 && header.some((c) => c.includes("\uFFFD"))) {
    throw new InputError("the header row is not valid UTF-8 (save the file as UTF-8)");
  }
  const rows = (async function* () {
    let row = 0;
    try {
      for (;;) {
        const next = await it.next();
        if (next.done) return;
        yield { row: ++row, cells: next.value, badUtf8: utf8.badUtf8 };
      }
    } catch (error) {
      if (error instanceof InputError) throw error;
      // Found only at the end of the file: the quote opened in the row after the last one read
      // (the rest of the file was read as that one field, so the line is the file's last).
      if (error instanceof CsvError && error.code === "CSV_QUOTE_NOT_CLOSED") {
        const last = (error as unknown as { lines?: number }).lines;
        throw new InputError(
          `CSV syntax error: a quoted field opened in row ${row + 1} (the row after row ${row}) is not closed by the end of the file${last ? ` (line ${last})` : ""}; the rows from there on were not read`,
        );
      }
      throw new InputError(`${csvMessage(error, CsvError)}, after row ${row}`);
    }
  })();
  return { header, rows, parser: csv };
}

/** Parses a JSON array element by element, or NDJSON line by line (a bad line is a row too). */
export async function jsonRows(
  source: Readable,
  format: "json" | "ndjson",
  utf8: Utf8State,
): Promise<ParsedRows> {
  const stream =
    format === "json"
      ? (await import("stream-json/streamers/stream-array.js")).default.withParserAsStream()
      : (await import("stream-chain/jsonl/parserStream.js")).default({
          errorIndicator: (_error: Error, line: string) =>
            ({ invalidJson: true, line }) satisfies InvalidJsonLine,
        });
  pipeline(source, stream, () => {});
  const rows = (async function* () {
    let row = 0;
    try {
      for await (const item of rowsOf<{ key: number; value: unknown }>(
        stream as NodeJS.ReadableStream,
      )) {
        yield { row: ++row, value: item.value, badUtf8: utf8.badUtf8 };
      }
    } catch (error) {
      if (error instanceof InputError) throw error;
      const what = format === "json" ? "JSON" : "NDJSON";
      const message = error instanceof Error ? error.message : String(error);
      throw new InputError(
        `${what} syntax error (${count(row, "row")} read before it): ${message}`,
      );
    }
  })();
  return { header: undefined, rows, parser: stream as never };
}
