// The failed rows of a run, grouped by what the server (or the converter) said: read from
// failed.csv or failed.ndjson as a stream, taking only the columns the CLI added (_row, _status,
// _message, _mayHaveBeenApplied). The input's own cells, the records, never leave the file.
import { createReadStream, existsSync } from "node:fs";
import { createInterface } from "node:readline";
import type { RunConfig } from "../run-dir/config.ts";
import { cellText } from "../safe-text.ts";

/** Rows the report lists per message. */
const FIRST_ROWS = 5;
/** Distinct messages kept; rows with any further message are only counted. */
const MAX_GROUPS = 1000;

export interface FailureGroup {
  /** HTTP status, 0 when there was no answer or the row was never sent. */
  status: number;
  message: string;
  count: number;
  /** The lowest row numbers (of the input) with this message, ascending. */
  firstRows: number[];
}

export interface Failures {
  /** Largest first. */
  groups: FailureGroup[];
  /** Rows whose message was not kept (more than MAX_GROUPS distinct messages). */
  otherRows: number;
  rows: number;
  /** Rows flagged _mayHaveBeenApplied: the server may have applied them; re-check. */
  mayHaveBeenApplied: number;
}

/** The CLI's columns of one failed row. */
interface FailedRow {
  row: number;
  status: number;
  message: string;
  mayHaveBeenApplied: boolean;
}

/** The last five cells of a failed.csv row are the CLI's (see run-dir/results.ts). */
function fromCells(cells: string[], guard: RunConfig["cells"]): FailedRow | undefined {
  if (cells.length < 5) return undefined;
  const [row, status, message, , applied] = cells.slice(-5);
  const n = Number(row);
  if (!Number.isInteger(n)) return undefined;
  return {
    row: n,
    status: Number(status) || 0,
    // The server's text as it was: without the ' the file has for spreadsheets (a run folder
    // from before the guard was reversible is read as written).
    message: guard === 2 ? cellText(message ?? "") : (message ?? ""),
    mayHaveBeenApplied: applied === "true",
  };
}

function fromJsonLine(line: string): FailedRow | undefined {
  let value: Record<string, unknown>;
  try {
    value = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  if (value === null || typeof value !== "object" || !Number.isInteger(value._row))
    return undefined;
  return {
    row: value._row as number,
    status: Number(value._status) || 0,
    message: typeof value._message === "string" ? value._message : "",
    mayHaveBeenApplied: value._mayHaveBeenApplied === true,
  };
}

async function* failedRows(
  path: string,
  config: RunConfig,
  length: number | undefined,
): AsyncGenerator<FailedRow> {
  // Only what the journal committed: a crash may have left rows after it (resume cuts them).
  if (length === 0) return;
  // csv-parse is loaded for a CSV run only, and only when a report is made.
  const csv = config.input.format === "csv" ? await import("csv-parse") : undefined;
  const stream = createReadStream(path, length === undefined ? {} : { end: length - 1 });
  if (csv === undefined) {
    for await (const line of createInterface({
      input: stream,
      crlfDelay: Number.POSITIVE_INFINITY,
    })) {
      const row = line.trim() === "" ? undefined : fromJsonLine(line);
      if (row) yield row;
    }
    return;
  }
  const parser = stream.pipe(
    csv.parse({
      delimiter: config.input.delimiter ?? ",",
      relax_column_count: true,
      from_line: config.input.header ? 2 : 1,
    }),
  );
  for await (const cells of parser as AsyncIterable<string[]>) {
    const row = fromCells(cells, config.cells);
    if (row) yield row;
  }
}

/** Reads the failed file (up to `length` bytes, the journal's last commit) and groups it. */
export async function readFailures(
  path: string,
  config: RunConfig,
  length: number | undefined,
): Promise<Failures> {
  const result: Failures = { groups: [], otherRows: 0, rows: 0, mayHaveBeenApplied: 0 };
  if (!existsSync(path)) return result;
  const groups = new Map<string, FailureGroup>();
  for await (const failed of failedRows(path, config, length)) {
    result.rows++;
    if (failed.mayHaveBeenApplied) result.mayHaveBeenApplied++;
    const key = `${failed.status}\u0000${failed.message}`;
    let group = groups.get(key);
    if (group === undefined) {
      if (groups.size >= MAX_GROUPS) {
        result.otherRows++;
        continue;
      }
      group = { status: failed.status, message: failed.message, count: 0, firstRows: [] };
      groups.set(key, group);
    }
    group.count++;
    // Rows settle out of order: keep the lowest few.
    const rows = group.firstRows;
    if (rows.length < FIRST_ROWS || failed.row < (rows[rows.length - 1] as number)) {
      rows.push(failed.row);
      rows.sort((a, b) => a - b);
      if (rows.length > FIRST_ROWS) rows.pop();
    }
  }
  result.groups = [...groups.values()].sort(
    (a, b) => b.count - a.count || (a.firstRows[0] ?? 0) - (b.firstRows[0] ?? 0),
  );
  return result;
}
