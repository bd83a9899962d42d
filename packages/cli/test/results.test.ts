// The rows of the result files: cells the CLI adds never start like a formula; the input's own
// cells are written back exactly as read; CSV quoting still holds.
import { parse } from "csv-parse/sync";
import { stringify } from "csv-stringify/sync";
import { describe, expect, it } from "vitest";
import type { RunConfig } from "../src/run-dir/config.ts";
import { FailedRowFormat, succeededRow } from "../src/run-dir/results.ts";
import { RAW_CONTROL } from "./helpers.ts";

function config(format: "csv" | "ndjson", delimiter = ","): RunConfig {
  return {
    version: 1,
    command: "upsert",
    createdAt: "2026-01-05T08:30:00Z",
    entity: "tolerances",
    input: {
      path: "/in.csv",
      size: 1,
      sha256: "0".repeat(64),
      format,
      gzip: false,
      delimiter: format === "csv" ? delimiter : undefined,
      header: format === "csv" ? ["tolerance_Key", "tolerance1", "Notes"] : undefined,
    },
    convert: {
      map: undefined,
      ignoreColumns: [],
      ignoreUnknownColumns: false,
      emptyAs: "auto",
      timezoneOffset: "Z",
    },
    pathParams: undefined,
    client: {
      baseUrl: "http://127.0.0.1:1",
      database: "DB",
      chunkSize: undefined,
      concurrency: undefined,
      rateLimit: undefined,
    },
  };
}

const failure = (message: string, activityId = "0HN:1") => ({
  status: 409,
  message,
  activityId,
  mayHaveBeenApplied: false,
});

describe("failed.csv rows", () => {
  it("quotes the server's message and activity id when they start like a formula", () => {
    const format = new FailedRowFormat(config("csv"));
    const cases: [string, string][] = [
      ['=HYPERLINK("http://evil.example","click")', `'=HYPERLINK("http://evil.example","click")`],
      ["+SUM(1,2)", "'+SUM(1,2)"],
      ["-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"],
      ["@SUM(1,2)", "'@SUM(1,2)"],
      ["\t=1+2", "'\t'=1+2"],
      // A bare carriage return is shown as an escape: the cell starts with a backslash.
      ["\r=1+2", "\\x0d=1+2"],
      [" =1+2", "' =1+2"],
      ["-", "'-"],
      ["Conflict", "Conflict"],
      ["", ""],
    ];
    for (const [message, written] of cases) {
      const line = format.format(7, { cells: ["1", "2", "n"] }, failure(message, message));
      const [cells] = parse(line) as string[][];
      expect(cells).toEqual(["1", "2", "n", "7", "409", written, written, "false"]);
    }
  });

  it("writes the input's own cells back byte for byte, whatever they start with", () => {
    for (const delimiter of [",", ";", "\t"]) {
      const format = new FailedRowFormat(config("csv", delimiter));
      for (const cells of [
        ["=1+2", "-5", '=HYPERLINK("http://x","y")'],
        ["+1", "@A1", "\t-x"],
        [" =1", "'=quoted", ""],
        ["-", "\r=1", 'a\r\nb, "c"'],
      ]) {
        const line = format.format(1, { cells }, failure("=1+2"));
        const input = stringify([cells], { delimiter }).replace(/\n$/, "");
        expect(line.startsWith(`${input}${delimiter}`)).toBe(true);
        const [read] = parse(line, { delimiter }) as string[][];
        expect(read?.slice(0, 3)).toEqual(cells);
      }
    }
  });

  it("keeps CR, LF, quotes and delimiters inside a quoted message correctly quoted", () => {
    for (const delimiter of [",", ";", "\t"]) {
      const format = new FailedRowFormat(config("csv", delimiter));
      for (const message of [
        '=a "quoted", b;c\td\r\nsecond line',
        'plain "quoted", b;c\td\r\nsecond line',
        "\r\n=1",
      ]) {
        const line = format.format(2, { cells: ["1", "2", "n"] }, failure(message));
        const [read] = parse(line, { delimiter }) as string[][];
        // A trigger after a line break gets its own ' (a spreadsheet splitting on another
        // separator starts a cell there).
        const guarded = message.replace("\r\n=", "\r\n'=");
        expect(read?.[5]).toBe(message.startsWith("plain") ? message : `'${guarded}`);
        expect(read).toHaveLength(8);
      }
    }
  });

  it("failed.ndjson: the same values, with no raw control, C1 or bidi character", () => {
    const format = new FailedRowFormat(config("ndjson"));
    const value = { tolerance_Key: 1, note: "=1+2 \u202e\u0085" };
    const message = "\x1b]0;pwned\x07\u009b31m\u202e";
    const line = format.format(3, { value }, failure(message));
    expect(line.endsWith("\n")).toBe(true);
    expect(line.slice(0, -1)).not.toMatch(RAW_CONTROL);
    expect(JSON.parse(line)).toEqual({
      ...value,
      _row: 3,
      _status: 409,
      _message: message,
      _activityId: "0HN:1",
      _mayHaveBeenApplied: false,
    });
  });
});

describe("succeeded.csv rows", () => {
  it("quotes the activity id and a text key that starts like a formula; numbers stay numbers", () => {
    const row = succeededRow(
      ["tolerance_Key", "group_ID"],
      4,
      { tolerance_Key: -5, group_ID: "=1+2" },
      "created",
      "=cmd|' /C calc'!A0",
      true,
    );
    expect(stringify([row])).toBe("4,-5,'=1+2,created,'=cmd|' /C calc'!A0,true\n");
  });
});
