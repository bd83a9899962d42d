// The rows of the result files: failed.csv (the input's columns, then _row, _status, _message,
// _activityId, _mayHaveBeenApplied: fix it and load it again) or failed.ndjson (the input's
// objects with those fields), and succeeded.csv (row, key fields, outcome, activityId, resent).
// Every CSV cell the CLI adds goes through spreadsheetCell (no formulas), and so do succeeded.csv's
// text key values (a key from NDJSON or JSON input may read "=HYPERLINK(...)"; numbers stay
// numbers). failed.csv's input cells are the user's data, written back exactly as read, so the
// fixed file loads as it is.
import { stringify } from "csv-stringify/sync";
import { isResultColumn, RESULT_COLUMNS } from "../convert.ts";
import { safeJson, serverTextCell, spreadsheetCell } from "../safe-text.ts";
import type { RunConfig } from "./config.ts";

/** A row as it was read: CSV cells, or the NDJSON/JSON value. */
export interface OriginalRow {
  cells?: string[] | undefined;
  value?: unknown;
}

export interface Failure {
  status: number;
  message: string;
  activityId: string;
  mayHaveBeenApplied: boolean;
}

export function succeededHeader(keyFields: readonly string[]): string {
  return stringify([["row", ...keyFields, "outcome", "activityId", "resent"]]);
}

export function succeededRow(
  keyFields: readonly string[],
  row: number,
  key: Record<string, unknown>,
  outcome: "created" | "updated",
  activityId: string,
  resent: boolean,
): unknown[] {
  return [
    spreadsheetCell(String(row)),
    ...keyFields.map((f) => {
      const value = key[f];
      return typeof value === "string" ? spreadsheetCell(value) : (value ?? "");
    }),
    spreadsheetCell(outcome),
    serverTextCell(activityId),
    spreadsheetCell(resent ? "true" : ""),
  ];
}

/** The failed file's header: the input's columns (minus old result columns), then the results. */
export function failedHeader(config: RunConfig): string {
  const header = config.input.header;
  if (!header) return "";
  return stringify([[...header.filter((c) => !isResultColumn(c)), ...RESULT_COLUMNS]], {
    delimiter: config.input.delimiter ?? ",",
  });
}

/** Formats failed rows the way the input was written: CSV in its columns, or NDJSON objects. */
export class FailedRowFormat {
  /** Columns of the original file that the failed file repeats (CSV), by position. */
  private readonly keepColumns: number[] | undefined;

  constructor(private readonly config: RunConfig) {
    const header = config.input.header;
    if (header) this.keepColumns = header.flatMap((c, i) => (isResultColumn(c) ? [] : [i]));
  }

  format(row: number, original: OriginalRow, failure: Failure): string {
    const extra = [
      row,
      failure.status,
      failure.message,
      failure.activityId,
      failure.mayHaveBeenApplied ? "true" : "false",
    ];
    if (this.config.input.format === "csv") {
      const cells = original.cells ?? [];
      const kept = this.keepColumns
        ? cells.length === (this.config.input.header?.length ?? 0)
          ? this.keepColumns.map((i) => cells[i] ?? "")
          : cells
        : cells;
      const added = extra.map((cell) => serverTextCell(String(cell)));
      return stringify([[...kept, ...added]], { delimiter: this.config.input.delimiter ?? "," });
    }
    const value = original.value;
    const base =
      value !== null && typeof value === "object" && !Array.isArray(value)
        ? Object.fromEntries(
            Object.entries(value as Record<string, unknown>).filter(
              ([k]) => !RESULT_COLUMNS.includes(k as never),
            ),
          )
        : { _value: value };
    const out: Record<string, unknown> = { ...base };
    RESULT_COLUMNS.forEach((c, i) => {
      out[c] = c === "_mayHaveBeenApplied" ? failure.mayHaveBeenApplied : extra[i];
    });
    return `${safeJson(out)}\n`;
  }
}
