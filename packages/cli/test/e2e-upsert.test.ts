// End-to-end: `vbapi upsert` (the built bin, as a child process) against the reference server.
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { bodies, csvRun, db, env, server, tolerancesCsv, upsertArgs } from "./e2e-setup.ts";
import { bin, events, readCsv, readJson, tempDir, vbapi } from "./helpers.ts";

describe("vbapi upsert", () => {
  it("loads a CSV with a BOM, CRLF, quoted newlines, semicolons and loose headers (exit 0)", async () => {
    const { file, database, out } = csvRun(
      "\uFEFFTOLERANCE_KEY;Tolerance1;group_ID;Entry_Date;payment_Method\r\n" +
        '310;2.5;"GRP;00417";2026-01-05;"ACH\r\nsecond line"\r\n' +
        '311;-3e2;"say ""hi""";2026-01-05T08:30:00;\r\n' +
        "312; 7 ;;2026-01-05T08:30:00+02:00;CHK\r\n",
      "tolerances.csv",
    );
    const r = await vbapi(upsertArgs(file, database, out), { env });
    expect(r.stderr).toContain("3 succeeded");
    expect(r.code).toBe(0);
    expect(bodies(database, "Tolerance")).toEqual([
      {
        tolerance_Key: 310,
        tolerance1: 2.5,
        group_ID: "GRP;00417",
        entry_Date: "2026-01-05T00:00:00Z",
        payment_Method: "ACH\r\nsecond line",
      },
      {
        tolerance_Key: 311,
        tolerance1: -300,
        group_ID: 'say "hi"',
        entry_Date: "2026-01-05T08:30:00Z",
        payment_Method: null,
      },
      {
        tolerance_Key: 312,
        tolerance1: 7,
        group_ID: null,
        entry_Date: "2026-01-05T08:30:00+02:00",
        payment_Method: "CHK",
      },
    ]);
    const succeeded = readCsv(join(out, "succeeded.csv"));
    expect(succeeded.map((s) => [s.row, s.tolerance_Key, s.outcome])).toEqual([
      ["1", "310", "created"],
      ["2", "311", "created"],
      ["3", "312", "created"],
    ]);
    expect(succeeded[0]?.activityId).toMatch(/\S/);
    const summary = readJson<{ input: { sha256: string } }>(join(out, "summary.json"));
    expect(summary).toMatchObject({
      status: "complete",
      exitCode: 0,
      entity: "tolerances",
      input: { path: file, size: readFileSync(file).length, format: "csv", delimiter: ";" },
      totals: { rows: 3, created: 3, updated: 0, failed: 0, invalid: 0 },
      requests: 1,
    });
    expect(summary.input.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(readCsv(join(out, "failed.csv"), ";")).toEqual([]);
    // Nothing secret in the run folder.
    for (const name of readdirSync(out)) {
      const text = readFileSync(join(out, name), "utf8");
      expect(text).not.toContain(server.credentials.token);
      expect(text).not.toContain(server.credentials.apiKey);
    }
  });

  it("reports invalid and refused rows by row and column (exit 1), and the fixed failed.csv loads (exit 0)", async () => {
    const { dir, file, database, out } = csvRun(
      "tolerance_Key,tolerance1,group_ID,Notes\n" +
        "1,1.5,G1,n\n" +
        "2,SECRET-VALUE-XYZ,G2,n\n" + // not a number
        "3,,G3,n\n" + // required, empty
        "4,2,G4-way-too-long-for-twenty-chars,n\n" + // maxLength
        "99999999999,2,G5,n\n" + // int32
        "6,2,G6,n\n", // refused by the server
    );
    const fault = server.faults.failRecords({
      keys: [{ tolerance_Key: 6 }],
      status: 409,
      message: "Conflict",
      count: 1,
    });
    const r = await vbapi(upsertArgs(file, database, out, "--ignore-column", "notes"), { env });
    fault.cancel();
    expect(r.code).toBe(1);
    expect(r.stderr + r.stdout).not.toContain("SECRET-VALUE-XYZ");
    const failed = readCsv(join(out, "failed.csv"));
    expect(failed.map((f) => [f._row, f._status, f.tolerance_Key])).toEqual([
      ["2", "0", "2"],
      ["3", "0", "3"],
      ["4", "0", "4"],
      ["5", "0", "99999999999"],
      ["6", "409", "6"],
    ]);
    expect(failed[0]?._message).toBe('invalid, not sent: column "tolerance1": is not a number');
    expect(failed[1]?._message).toContain('column "tolerance1": is empty; tolerance1 is required');
    expect(failed[2]?._message).toContain('column "group_ID": must be at most 20 characters long');
    expect(failed[3]?._message).toContain('column "tolerance_Key": is out of range (int32)');
    expect(failed[4]).toMatchObject({
      _message: "Conflict",
      _mayHaveBeenApplied: "false",
      Notes: "n",
    });
    expect(failed[4]?._activityId).toMatch(/\S/);
    expect(Object.keys(failed[0] ?? {})).toEqual([
      "tolerance_Key",
      "tolerance1",
      "group_ID",
      "Notes",
      "_row",
      "_status",
      "_message",
      "_activityId",
      "_mayHaveBeenApplied",
    ]);
    expect(bodies(database, "Tolerance").map((b) => b.tolerance_Key)).toEqual([1]);

    // Fix the failed file in place and feed it straight back.
    const fixed = readFileSync(join(out, "failed.csv"), "utf8")
      .replace("SECRET-VALUE-XYZ", "2.5")
      .replace("3,,G3", "3,3,G3")
      .replace("G4-way-too-long-for-twenty-chars", "G4")
      .replace("99999999999", "5");
    writeFileSync(join(dir, "fixed.csv"), fixed);
    const again = await vbapi(
      [
        "upsert",
        "tolerances",
        join(dir, "fixed.csv"),
        "--database",
        database,
        "--rate-limit",
        "off",
        "--out",
        join(dir, "run2"),
        "--ignore-column",
        "Notes",
      ],
      { env },
    );
    expect(again.code).toBe(0);
    expect(
      bodies(database, "Tolerance")
        .map((b) => b.tolerance_Key)
        .sort((a, b) => Number(a) - Number(b)),
    ).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it("exits 2 for usage, configuration and input errors, before anything is sent", async () => {
    const dir = tempDir();
    const file = join(dir, "t.csv");
    writeFileSync(file, "tolerance_Key,tolerance1,Colour\n1,1,red\n");
    const requests = server.stats.requests;
    const cases: [string[], Record<string, string | undefined>, RegExp][] = [
      [
        ["upsert", "tolerances", file, "--database", "X"],
        {},
        /unknown column "Colour".*--ignore-column/,
      ],
      [
        ["upsert", "tolerances", file, "--database", "X", "--ignore-unknown-columns"],
        { VBAPI_TOKEN: undefined },
        /set VBAPI_TOKEN/,
      ],
      [
        ["upsert", "tolerances", join(dir, "missing.csv"), "--database", "X"],
        {},
        /cannot read .*missing\.csv: ENOENT/,
      ],
      [
        ["upsert", "tolerances", file, "--database", "X", "--chunk-size", "0"],
        {},
        /--chunk-size must be a whole number from 1 to 2147483647/,
      ],
      [
        ["upsert", "provider-cred-services", file, "--database", "X"],
        {},
        /provider-cred-services needs --provider-cred-key/,
      ],
      [
        ["upsert", "tolerances", file, "--database", "X", "--provider-cred-key", "5"],
        {},
        /--provider-cred-key applies to provider-cred-services/,
      ],
      [["upsert", "widgets", file, "--database", "X"], {}, /unknown entity "widgets"/],
      [["upsert", "tolerances", file, "--ignore-unknown-columns"], {}, /set --database/],
      [
        ["upsert", "tolerances", file, "--database", "X", "--map", join(dir, "nope.json")],
        {},
        /--map .*nope\.json: cannot read it/,
      ],
      [["resume", dir], {}, /is not a vbapi run folder/],
    ];
    await Promise.all(
      cases.map(async ([args, extra, message]) => {
        const r = await vbapi(args, { env: { ...env, ...extra }, cwd: dir });
        expect({ args, code: r.code }).toEqual({ args, code: 2 });
        expect(r.stderr).toMatch(message);
      }),
    );
    expect(existsSync(join(dir, "vbapi-runs"))).toBe(false);
    expect(server.stats.requests).toBe(requests);
    const json = await vbapi(["upsert", "widgets", file, "--json"], { env });
    expect(events(json.stdout)).toEqual([expect.objectContaining({ event: "error", exitCode: 2 })]);
  });

  it("a server that resets after applying or leaves records out of its answer: every row still accounted for", async () => {
    const { file, database, out } = csvRun(tolerancesCsv(60));
    const reset = server.faults.resetConnection({
      phase: "after-apply",
      count: 1,
      target: { database },
    });
    const omit = server.faults.omitRecords({
      keys: [{ tolerance_Key: 42 }],
      count: 1,
      target: { database },
    });
    const r = await vbapi(upsertArgs(file, database, out, "--chunk-size", "20"), { env });
    reset.cancel();
    omit.cancel();
    expect(r.code).toBe(0);
    expect(server.store.count(database, "Tolerance")).toBe(60);
    const rows = readCsv(join(out, "succeeded.csv")).map((s) => Number(s.row));
    expect(rows.sort((a, b) => a - b)).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
    expect(readJson(join(out, "summary.json"))).toMatchObject({
      totals: { rows: 60, failed: 0 },
      retries: expect.any(Number),
    });
  });

  it("an input that breaks off mid-file: the rows before it are loaded, exit 2 names the line", async () => {
    const { file, database, out } = csvRun(`${tolerancesCsv(50)}51,"unclosed\n`);
    const r = await vbapi(upsertArgs(file, database, out), { env });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /CSV syntax error: a quoted field opened in row 51 \(the row after row 50\) is not closed by the end of the file \(line \d+\); the rows from there on were not read/,
    );
    expect(server.store.count(database, "Tolerance")).toBe(50);
    expect(readJson(join(out, "summary.json"))).toMatchObject({
      status: "input-error",
      exitCode: 2,
      resumable: false,
      totals: { created: 50 },
    });
  });

  it("reads NDJSON from stdin and a gzipped JSON array, and refuses to resume a changed file", async () => {
    const dir = tempDir();
    const database = db();
    // providerCred_Key comes from --provider-cred-key; the _row column of a failed file is ignored.
    const ndjson = `${[1, 2, 3].map((k) => JSON.stringify({ credService_Key: k, _row: 9 })).join("\n")}\n`;
    // Through the bin: the process's own stdin (main-io.test.ts reads a given one).
    const r = await bin(
      [
        "upsert",
        "provider-cred-services",
        "-",
        "--format",
        "ndjson",
        "--provider-cred-key",
        "5021",
        "--database",
        database,
        "--rate-limit",
        "off",
        "--out",
        join(dir, "r1"),
      ],
      { env, input: ndjson },
    );
    expect(r.stderr).toContain("3 succeeded");
    expect(r.code).toBe(0);
    expect(bodies(database, "ProviderCredService")).toEqual(
      [1, 2, 3].map((k) => ({ credService_Key: k, providerCred_Key: 5021 })),
    );
    expect(readJson(join(dir, "r1", "summary.json"))).toMatchObject({
      input: { path: "-", sha256: expect.stringMatching(/^[0-9a-f]{64}$/) },
    });

    const file = join(dir, "tolerances.json.gz");
    writeFileSync(
      file,
      gzipSync(
        JSON.stringify([
          { tolerance_Key: 7, tolerance1: 1 },
          { tolerance_Key: 8, tolerance1: "2.5", bogus: 1 },
        ]),
      ),
    );
    const out = join(dir, "r2");
    const j = await vbapi(upsertArgs(file, database, out), { env });
    expect(j.code).toBe(1);
    const failed = readFileSync(join(out, "failed.ndjson"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(failed).toEqual([
      expect.objectContaining({
        tolerance_Key: 8,
        bogus: 1,
        _row: 2,
        _status: 0,
        _mayHaveBeenApplied: false,
        _message: expect.stringContaining('column "bogus": is not a field of tolerances'),
      }),
    ]);
    writeFileSync(file, gzipSync("[]"));
    const resumed = await vbapi(["resume", out], { env });
    expect(resumed.code).toBe(2);
    expect(resumed.stderr).toContain("is not the file this run started with");
  });
});
