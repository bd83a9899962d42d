// From input rows to records: conversion by the spec (shared with `vbapi validate`), and the
// session's stream of rows to send, minus the rows an earlier session finished.
import type { Converter, Issue, Target } from "../convert.ts";
import type { Counters } from "../display.ts";
import { type InputRow, isInvalidJsonLine, type OpenedInput } from "../input/types.ts";
import type { OriginalRow } from "../run-dir/results.ts";
import type { RowSet } from "../run-dir/row-set.ts";

export interface Converted {
  record: Record<string, unknown>;
  issues: Issue[];
}

/**
 * Converts the input's rows (CSV cells through the header's columns, or JSON values); an NDJSON
 * line that is not JSON is an issue. Reads the header at once: an unknown column throws.
 */
export function rowConverter(converter: Converter, input: OpenedInput): (r: InputRow) => Converted {
  const header = input.header ?? [];
  const targets: Target[] = input.format === "csv" ? converter.header(header) : [];
  return (r) => {
    if (r.cells !== undefined) return converter.fromCells(header, targets, r.cells, r.badUtf8);
    if (isInvalidJsonLine(r.value))
      return { record: {}, issues: [{ column: "", message: "is not valid JSON" }] };
    return converter.fromObject(r.value, r.badUtf8);
  };
}

export function describeIssues(issues: Issue[]): string {
  return issues
    .map((i) => (i.column ? `column "${i.column}": ${i.message}` : i.message))
    .join("; ");
}

/** A valid row on its way to the server. */
export interface RowToSend {
  row: number;
  record: Record<string, unknown>;
  /** As read, for the failed file. */
  original: OriginalRow;
  /** An earlier session may have sent it already (it was read before the interruption). */
  resent: boolean;
  /**
   * A request of the previous session may still carry it (that session read it and did not end
   * settled: killed, or requests aborted in flight): later rows with its key are held back.
   */
  mayBeOnItsWay: boolean;
}

export interface RowsToSendOptions {
  input: OpenedInput;
  convert: (r: InputRow) => Converted;
  /** Rows an earlier session finished (resume): skipped. */
  skip: RowSet | undefined;
  /** Rows up to this one may have been sent by an earlier session. */
  readMark: number;
  /** Rows up to this one may still be in a request of the previous session (0: none). */
  onItsWayMark: number;
  counters: Counters;
  /** An invalid row: final here, never sent (counted by the callee). */
  onInvalid(row: number, original: OriginalRow, message: string): void;
  /** Rows a killed session may still have on their way, while it may (see HoldBehind). */
  holdBehind?: HoldBehind | undefined;
}

/**
 * While a killed session's requests may still reach VBA: the rows of its that a later session
 * re-sent are final, so they are not sent again, but their keys still hold back every later
 * row with the same key (a late copy would land after it). Those rows are not sent: `onHeld`.
 */
export interface HoldBehind {
  /** The rows re-sent since the kill (final: skipped, but their keys hold later rows back). */
  resent: RowSet;
  /** A record's key identity (the SDK's: equal for records VBA stores as one). */
  keyId(record: Record<string, unknown>): string;
  /** A row held back: not final, not sent in this session (counted by the callee). */
  onHeld(row: number): void;
}

/** The rows from the file, minus those already final, converted; invalid ones go to onInvalid. */
export async function* rowsToSend(options: RowsToSendOptions): AsyncGenerator<RowToSend> {
  const { counters, skip, holdBehind } = options;
  /** Keys of rows a killed session may still have on their way, already re-sent and final. */
  const heldKeys = new Set<string>();
  for await (const r of options.input.rows) {
    counters.read++;
    if (skip?.has(r.row)) {
      counters.skipped++;
      if (holdBehind?.resent.has(r.row)) {
        // Final, so converted once before: its key is read again from the file.
        const { record, issues } = options.convert(r);
        if (issues.length === 0) heldKeys.add(holdBehind.keyId(record));
      }
      continue;
    }
    const original: OriginalRow =
      r.cells !== undefined
        ? { cells: r.cells }
        : { value: isInvalidJsonLine(r.value) ? { _invalidJson: r.value.line } : r.value };
    const converted = options.convert(r);
    if (converted.issues.length > 0) {
      options.onInvalid(r.row, original, `invalid, not sent: ${describeIssues(converted.issues)}`);
      continue;
    }
    if (heldKeys.size > 0 && heldKeys.has((holdBehind as HoldBehind).keyId(converted.record))) {
      (holdBehind as HoldBehind).onHeld(r.row);
      continue;
    }
    yield {
      row: r.row,
      record: converted.record,
      original,
      resent: r.row <= options.readMark,
      mayBeOnItsWay: r.row <= options.onItsWayMark,
    };
  }
}
