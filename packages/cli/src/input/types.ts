// What reading an input yields: its formats, its rows, the opened input, and the error for an
// input that cannot be read as what it claims to be.

export type InputFormat = "csv" | "ndjson" | "json";
export const INPUT_FORMATS: readonly InputFormat[] = ["csv", "ndjson", "json"];

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
