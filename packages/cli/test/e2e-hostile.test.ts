// End-to-end (the built bin against the reference server): hostile text from the server
// (per-record messages, problem details, activity ids) and from the file (cells, column names,
// file names) becomes neither a spreadsheet formula in the run folder's CSV files nor a control
// sequence on the terminal, and the input's own cells come back exactly as they were read.
import { cpSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { stringify } from "csv-stringify/sync";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bodies, csvRun, db, env, server, upsertArgs } from "./e2e-setup.ts";
import {
  events,
  RAW_CONTROL,
  readCsv,
  readJson,
  tempDir,
  vbapi,
  withoutNewLines,
} from "./helpers.ts";
import { type RewritingProxy, rewritingProxy } from "./rewriting-proxy.ts";

/** A title change, a screen clear, an 8-bit CSI, a right-to-left override, DEL, a fake line. */
const TERMINAL_HOSTILE = "\x1b]0;pwned\x07\x1b[2J\u009b31m\u202egnp.exe\u2066\x7f\nrow 99: fake";
const HOSTILE_ACTIVITY_ID = "=cmd|' /C calc'!A0";

let proxy: RewritingProxy;
beforeAll(async () => {
  // The server draws its own activity ids: the proxy puts a hostile one in every answer.
  proxy = await rewritingProxy(server.url, (body) =>
    body.replace(/"activityID":"[^"]*"/g, `"activityID":${JSON.stringify(HOSTILE_ACTIVITY_ID)}`),
  );
});
afterAll(() => proxy.close());

/** Rows of a tolerances file: key, tolerance1, group_ID, Notes (ignored), and what the server says. */
const ROWS: [string, string, string, string, string][] = [
  ["1", "-5", "=1+2", '=HYPERLINK("http://evil.example","click")', '=HYPERLINK("http://x","y")'],
  ["2", "+3", "@SUM(A1)", "+SUM(1,2)", "+SUM(1,2)"],
  ["3", "-0.5", "-2+3", "-2+3+cmd|' /C calc'!A0", "-2+3+cmd|' /C calc'!A0"],
  ["4", "1", "\t=1", "@A1", "@SUM(1,2)"],
  ["5", "1", " =1", "\t-x\r\nsecond line", "\t=1+2"],
  ["6", "1", "x", "'=already quoted", "\r=1+2"],
  ["7", "1", "y", "", " =1+2"],
  ["8", "1", "z", "-", 'a "quoted" word, a comma\r\nand a new line'],
];

describe("hostile text", () => {
  it("failed.csv and succeeded.csv: server text that starts like a formula gets a ', the input's cells come back byte for byte, and the fixed file loads", async () => {
    const dir = tempDir();
    const database = db();
    const header = ["tolerance_Key", "tolerance1", "group_ID", "Notes"];
    const lines = [
      ...ROWS.map((r) => stringify([r.slice(0, 4)])),
      stringify([["9", "=1+2", "w", "=1+2"]]), // invalid: tolerance1 is not a number
      stringify([["10", "2", "ok", "=SUM(1)"]]), // succeeds
    ];
    const file = join(dir, "t.csv");
    writeFileSync(file, `${stringify([header])}${lines.join("")}`);
    const faults = ROWS.map(([key, , , , message]) =>
      server.faults.failRecords({
        keys: [{ tolerance_Key: Number(key) }],
        status: 409,
        message,
        target: { database },
      }),
    );
    const out = join(dir, "run");
    const r = await vbapi(upsertArgs(file, database, out, "--ignore-column", "Notes"), {
      env: { ...env, VBAPI_BASE_URL: proxy.url },
    });
    for (const f of faults) f.cancel();
    expect(r.code).toBe(1);

    const failedText = readFileSync(join(out, "failed.csv"), "utf8");
    const failed = readCsv(join(out, "failed.csv")).sort((a, b) => Number(a._row) - Number(b._row));
    expect(failed.map((f) => f._row)).toEqual(["1", "2", "3", "4", "5", "6", "7", "8", "9"]);
    ROWS.forEach(([key, t1, group, notes, message], i) => {
      // A bare carriage return is shown as an escape (`cat` would overwrite the line with it).
      // A tab that starts it: a ' before the cell and one after the tab (a tab-split view).
      const quoted = message.startsWith("a ")
        ? message
        : message.startsWith("\r")
          ? message.replace("\r", "\\x0d")
          : message.startsWith("\t")
            ? `'\t'${message.slice(1)}`
            : `'${message}`;
      expect(failed[i]).toEqual({
        tolerance_Key: key,
        tolerance1: t1,
        group_ID: group,
        Notes: notes,
        _row: key,
        _status: "409",
        _message: quoted,
        _activityId: `'${HOSTILE_ACTIVITY_ID}`,
        _mayHaveBeenApplied: "false",
      });
    });
    // The report shows the server's text as it was, without the ' added for spreadsheets.
    const report = (await vbapi(["report", out])).stdout;
    expect(report).toContain('1 × HTTP 409: =HYPERLINK("http://x","y") (row 1)');
    expect(report).toContain("1 × HTTP 409: +SUM(1,2) (row 2)");
    expect(report).not.toMatch(/409: '/);
    // A run folder made before the guard could be undone (no `cells` in run.json): read as written.
    const older = join(dir, "older");
    cpSync(out, older, { recursive: true });
    const config = readJson(join(older, "run.json")) as Record<string, unknown>;
    expect(config.cells).toBe(2);
    delete config.cells;
    writeFileSync(join(older, "run.json"), JSON.stringify(config));
    expect((await vbapi(["report", older])).stdout).toContain(
      `1 × HTTP 409: '=HYPERLINK("http://x","y") (row 1)`,
    );
    expect(failed[8]).toMatchObject({ tolerance1: "=1+2", Notes: "=1+2", _status: "0" });
    expect(failed[8]?._message).toMatch(/^invalid, not sent: column "tolerance1"/);
    // Byte for byte: each failed row begins with the input's line, as it was in the file.
    for (const line of lines.slice(0, 9)) {
      expect(failedText).toContain(`\n${line.replace(/\n$/, "")},`);
    }
    expect(readCsv(join(out, "succeeded.csv"))).toEqual([
      {
        row: "10",
        tolerance_Key: "10",
        outcome: "created",
        activityId: `'${HOSTILE_ACTIVITY_ID}`,
        resent: "",
      },
    ]);

    // Fix the invalid cell and load the failed file as it is: every row goes in unchanged.
    const fixed = join(dir, "fixed.csv");
    writeFileSync(fixed, failedText.replace("\n9,=1+2,w,", "\n9,9,w,"));
    const again = await vbapi(
      upsertArgs(fixed, database, join(dir, "run2"), "--ignore-column", "Notes"),
      {
        env,
      },
    );
    expect(again.code).toBe(0);
    const stored = new Map(bodies(database, "Tolerance").map((b) => [b.tolerance_Key, b]));
    ROWS.forEach(([key, t1, group]) => {
      expect(stored.get(Number(key))).toMatchObject({ tolerance1: Number(t1), group_ID: group });
    });
    expect(stored.get(9)).toMatchObject({ tolerance1: 9, group_ID: "w" });
  });

  it("a per-record message, a problem detail and a file name reach the terminal as visible escapes, in text and --json", async () => {
    const dir = tempDir();
    const database = db();
    const file = join(dir, "t\x1b[2J\u009b\u202e.csv");
    writeFileSync(file, "tolerance_Key,tolerance1\n1,1\n2,2\n");
    const fault = server.faults.failRecords({
      keys: [{ tolerance_Key: 1 }],
      status: 409,
      message: TERMINAL_HOSTILE,
      target: { database },
    });
    const text = await vbapi(upsertArgs(file, database, join(dir, "r1\x1b]0;x\x07")), { env });
    fault.cancel();
    expect(text.code).toBe(1);
    expect(withoutNewLines(text.stderr)).not.toMatch(RAW_CONTROL);
    expect(text.stderr).toContain(
      "row 1: HTTP 409: \\x1b]0;pwned\\x07\\x1b[2J\\x9b31m\\u202egnp.exe\\u2066\\x7f\\x0arow 99: fake",
    );
    expect(text.stderr).not.toMatch(/^\s*row 99/m);
    expect(text.stderr).toContain("/r1\\x1b]0;x\\x07/failed.csv");
    // In the result files too: `cat failed.csv` acts on nothing the server wrote.
    const failedCsv = readFileSync(join(dir, "r1\x1b]0;x\x07", "failed.csv"), "utf8");
    expect(withoutNewLines(failedCsv)).not.toMatch(RAW_CONTROL);
    expect(failedCsv).toContain("\\x1b]0;pwned\\x07\\x1b[2J\\x9b31m\\u202egnp.exe");

    // A 401 whose detail is hostile: the text report and the --json done event.
    const refuse = () =>
      server.faults.add({
        type: "status",
        status: 401,
        detail: TERMINAL_HOSTILE,
        count: 10,
        target: { database },
      });
    let refusal = refuse();
    const stopped = await vbapi(upsertArgs(file, database, join(dir, "r2")), { env });
    refusal.cancel();
    expect(stopped.code).toBe(3);
    expect(withoutNewLines(stopped.stderr)).not.toMatch(RAW_CONTROL);
    expect(stopped.stderr).toContain("\\x1b]0;pwned\\x07");

    refusal = refuse();
    const out = join(dir, "r3\u202e\u0085");
    const json = await vbapi(upsertArgs(file, database, out, "--json"), { env });
    refusal.cancel();
    expect(json.code).toBe(3);
    expect(withoutNewLines(json.stdout)).not.toMatch(RAW_CONTROL);
    const evs = events(json.stdout);
    expect(evs[0]).toMatchObject({ event: "start", input: file, runDir: out });
    const done = evs.at(-1) as { event: string; refusedBy: string; runDir: string };
    expect(done.event).toBe("done");
    expect(done.runDir).toBe(out);
    expect(done.refusedBy).toContain(TERMINAL_HOSTILE);
    // summary.json holds the same values, written the same way.
    const summaryText = readFileSync(join(out, "summary.json"), "utf8");
    expect(withoutNewLines(summaryText)).not.toMatch(RAW_CONTROL);
    expect(readJson<{ refusedBy: string }>(join(out, "summary.json")).refusedBy).toBe(
      done.refusedBy,
    );
  });

  it("an SDK warning quoting the server's activity id is shown as visible escapes", async () => {
    // An answer that names a record the request did not hold: the SDK warns, with the answer's
    // activity id, and the CLI shows the warning.
    const stray = await rewritingProxy(server.url, (body) => {
      const answer = JSON.parse(body) as { data: unknown[]; debug: Record<string, unknown> };
      answer.data.push({ id: [{ key: "tolerance_Key", value: 999 }], status: 201, body: "" });
      answer.debug.activityID = TERMINAL_HOSTILE;
      return JSON.stringify(answer);
    });
    try {
      const { file, database, out } = csvRun("tolerance_Key,tolerance1\n1,1\n");
      const r = await vbapi(upsertArgs(file, database, out), {
        env: { ...env, VBAPI_BASE_URL: stray.url },
      });
      expect(r.code).toBe(0);
      expect(r.stderr).toMatch(/^warning: .*\[activityId \\x1b\]0;pwned\\x07/m);
      expect(withoutNewLines(r.stderr)).not.toMatch(RAW_CONTROL);
    } finally {
      await stray.close();
    }
  });

  it("a column name from the file is echoed back as visible escapes (upsert, validate, --json)", async () => {
    const dir = tempDir();
    const column = "Col\x1b[31m\u202e";
    const file = join(dir, "t.csv");
    writeFileSync(file, `tolerance_Key,tolerance1,${column}\n1,1,x\n`);
    const upsert = await vbapi(["upsert", "tolerances", file, "--database", "X"], {
      env,
      cwd: dir,
    });
    expect(upsert.code).toBe(2);
    expect(withoutNewLines(upsert.stderr)).not.toMatch(RAW_CONTROL);
    expect(upsert.stderr).toContain('unknown column "Col\\x1b[31m\\u202e"');
    const asJson = await vbapi(["upsert", "tolerances", file, "--database", "X", "--json"], {
      env,
      cwd: dir,
    });
    expect(withoutNewLines(asJson.stdout)).not.toMatch(RAW_CONTROL);
    expect(events(asJson.stdout)[0]?.message).toContain(`unknown column "${column}"`);

    // Mapped to a field, the column names a bad cell in validate's report.
    const map = join(dir, "map.json");
    writeFileSync(map, JSON.stringify({ [column]: "group_ID", tolerance1: "tolerance1" }));
    const bad = join(dir, "bad.csv");
    writeFileSync(bad, `tolerance_Key,tolerance1,${column}\n1,1,${"x".repeat(30)}\n`);
    const validate = await vbapi(["validate", "tolerances", bad, "--map", map]);
    expect(validate.code).toBe(1);
    expect(withoutNewLines(validate.stdout)).not.toMatch(RAW_CONTROL);
    expect(validate.stdout).toContain('row 1, column "Col\\x1b[31m\\u202e": must be at most');
    const validateJson = await vbapi(["validate", "tolerances", bad, "--map", map, "--json"]);
    expect(withoutNewLines(validateJson.stdout)).not.toMatch(RAW_CONTROL);
    expect(events(validateJson.stdout)[0]).toMatchObject({
      event: "invalid",
      issues: [{ column }],
    });
  });
});
