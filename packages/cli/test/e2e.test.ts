// End-to-end: the built `vbapi` bin, as a child process, against the reference server.
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { type MockServer, startMockServer } from "@vbapi-sdk/mock-server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { events, readCsv, readJson, start, tempDir, vbapi } from "./helpers.ts";

let server: MockServer;
let env: Record<string, string>;
let dbCounter = 0;
const db = () => `DB${++dbCounter}`;

beforeAll(async () => {
  server = await startMockServer({ rateLimit: false });
  env = {
    VBAPI_API_KEY: server.credentials.apiKey,
    VBAPI_TOKEN: server.credentials.token,
    VBAPI_BASE_URL: server.url,
    VBAPI_DATABASE: "",
  };
});
afterAll(() => server.close());

const bodies = (database: string, entity: string) =>
  server.store.list(database, entity).map((r) => r.body);

/** A temp folder with `content` in a CSV file, a database of its own, and a run folder path. */
function csvRun(content: string, name = "t.csv") {
  const dir = tempDir();
  const file = join(dir, name);
  writeFileSync(file, content);
  return { dir, file, database: db(), out: join(dir, "run") };
}

/** A tolerances CSV of `n` rows, keys 1 to n. */
const tolerancesCsv = (n: number) =>
  `tolerance_Key,tolerance1\n${Array.from({ length: n }, (_, i) => `${i + 1},${i}`).join("\n")}\n`;

/** `vbapi upsert tolerances <file>` into `database` (rate limit off), run folder `out`. */
const upsertArgs = (file: string, database: string, out: string, ...more: string[]) => [
  "upsert",
  "tolerances",
  file,
  "--database",
  database,
  "--rate-limit",
  "off",
  "--out",
  out,
  ...more,
];

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
        /--chunk-size must be a positive whole number/,
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

  it("stops at a 401 with exit 3, and resumes once the credentials are right", async () => {
    const { file, database, out } = csvRun(tolerancesCsv(30));
    const r = await vbapi(upsertArgs(file, database, out, "--chunk-size", "10"), {
      env: { ...env, VBAPI_TOKEN: "expired-token" },
    });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(`resume with: vbapi resume ${out}`);
    expect(r.stderr).not.toContain("expired-token");
    expect(readJson(join(out, "summary.json"))).toMatchObject({
      status: "stopped-auth",
      exitCode: 3,
      resumable: true,
    });
    expect(readCsv(join(out, "failed.csv"))).toEqual([]);
    const resumed = await vbapi(["resume", out], { env });
    expect(resumed.code).toBe(0);
    expect(server.store.count(database, "Tolerance")).toBe(30);
    expect(readCsv(join(out, "succeeded.csv"))).toHaveLength(30);
  });

  it("--json: start, progress and done events; Ctrl-C stops with exit 130 and the run resumes", async () => {
    const { file, database, out } = csvRun(tolerancesCsv(400));
    const slow = server.faults.delay(150, { target: { database } });
    const run = start(
      upsertArgs(file, database, out, "--chunk-size", "20", "--concurrency", "2", "--json"),
      { env },
    );
    await new Promise<void>((resolve) => {
      run.child.stdout?.on("data", () => {
        if (server.store.count(database, "Tolerance") > 0) resolve();
      });
    });
    run.child.kill("SIGINT");
    const r = await run.done;
    slow.cancel();
    expect(r.code).toBe(130);
    const evs = events(r.stdout);
    expect(evs[0]).toMatchObject({ event: "start", entity: "tolerances", runDir: out });
    expect(evs.some((e) => e.event === "progress" && typeof e.succeeded === "number")).toBe(true);
    const done = evs.at(-1);
    expect(done).toMatchObject({
      event: "done",
      status: "interrupted",
      exitCode: 130,
      resumeCommand: `vbapi resume ${out}`,
    });
    const before = readCsv(join(out, "succeeded.csv")).length;
    expect(before).toBeGreaterThan(0);
    expect(before).toBeLessThan(400);
    const resumed = await vbapi(["resume", out, "--json"], { env });
    expect(resumed.code).toBe(0);
    expect(events(resumed.stdout).at(-1)).toMatchObject({
      event: "done",
      status: "complete",
      totals: { rows: 400, pending: 0 },
    });
    expect(server.store.count(database, "Tolerance")).toBe(400);
    const rows = readCsv(join(out, "succeeded.csv")).map((s) => Number(s.row));
    expect(new Set(rows).size).toBe(400);
    expect(rows).toHaveLength(400);
  });

  it("a second Ctrl-C aborts the requests in flight; their rows are resent by resume", async () => {
    const { file, database, out } = csvRun(tolerancesCsv(100));
    const slow = server.faults.delay(3000, { target: { database }, phase: "before-apply" });
    const run = start(upsertArgs(file, database, out, "--chunk-size", "10", "--json"), { env });
    await new Promise<void>((resolve) => run.child.stdout?.once("data", () => resolve()));
    await new Promise((resolve) => setTimeout(resolve, 300));
    const stoppedAt = Date.now();
    run.child.kill("SIGINT");
    await new Promise((resolve) => setTimeout(resolve, 100));
    run.child.kill("SIGINT");
    const r = await run.done;
    expect(Date.now() - stoppedAt).toBeLessThan(2500); // did not wait for the 3 s answers
    slow.cancel();
    expect(r.code).toBe(130);
    const done = events(r.stdout).at(-1);
    expect(done).toMatchObject({ event: "done", status: "interrupted", resumable: true });
    expect((done as { totals: { pending: number } }).totals.pending).toBeGreaterThan(0);
    expect(readCsv(join(out, "failed.csv"))).toEqual([]);
    const resumed = await vbapi(["resume", out], { env });
    expect(resumed.code).toBe(0);
    expect(server.store.count(database, "Tolerance")).toBe(100);
    expect(
      readCsv(join(out, "succeeded.csv"))
        .map((s) => Number(s.row))
        .sort((a, b) => a - b),
    ).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
  });

  it("survives kill -9 at a random moment: resume completes the run, every row once, nothing confirmed is re-sent", async () => {
    const n = 6000;
    const lines = ["tolerance_Key,tolerance1,group_ID"];
    for (let i = 1; i <= n; i++)
      lines.push(i % 1000 === 0 ? `${i},not-a-number,G` : `${i},${i / 4},"G,${i % 7}"`);
    const { file, database, out } = csvRun(`${lines.join("\r\n")}\r\n`);
    const slow = server.faults.delay(15, { target: { database } });
    const run = start(
      upsertArgs(file, database, out, "--chunk-size", "50", "--concurrency", "3", "--json"),
      { env },
    );
    await new Promise<void>((resolve) => run.child.stdout?.once("data", () => resolve()));
    await new Promise((resolve) => setTimeout(resolve, 50 + Math.random() * 500));
    run.child.kill("SIGKILL");
    const killed = await run.done;
    slow.cancel();
    expect(killed.signal).toBe("SIGKILL");

    // Rows the journal confirmed before the kill (complete lines only).
    const confirmed = new Set<number>();
    for (const line of readFileSync(join(out, "journal.ndjson"), "utf8").split("\n")) {
      let entry: Record<string, unknown>;
      try {
        entry = JSON.parse(line);
      } catch {
        continue;
      }
      for (const code of ["c", "u"])
        for (const row of (entry[code] as number[] | undefined) ?? []) confirmed.add(row);
    }

    const resumed = await vbapi(["resume", out], { env });
    expect(resumed.code).toBe(1); // the six invalid rows
    const stored = server.store.list(database, "Tolerance");
    const expected = new Map<number, Record<string, unknown>>();
    for (let i = 1; i <= n; i++)
      if (i % 1000 !== 0)
        expected.set(i, { tolerance_Key: i, tolerance1: i / 4, group_ID: `G,${i % 7}` });
    expect(stored.length).toBe(expected.size);
    for (const record of stored)
      expect(record.body).toEqual(expected.get(record.body.tolerance_Key as number));
    for (const record of stored) {
      if (confirmed.has(record.body.tolerance_Key as number)) expect(record.writes).toBe(1);
    }
    const succeeded = readCsv(join(out, "succeeded.csv"));
    const failed = readCsv(join(out, "failed.csv"));
    const all = [...succeeded.map((s) => Number(s.row)), ...failed.map((f) => Number(f._row))].sort(
      (a, b) => a - b,
    );
    expect(all).toEqual(Array.from({ length: n }, (_, i) => i + 1));
    expect(failed.map((f) => Number(f._row))).toEqual([1000, 2000, 3000, 4000, 5000, 6000]);
    // Rows written twice were in flight at the kill: the result files say they were resent.
    const resent = new Set(succeeded.filter((s) => s.resent === "true").map((s) => Number(s.row)));
    for (const record of stored)
      if (record.writes > 1) expect(resent.has(record.body.tolerance_Key as number)).toBe(true);
    expect(readJson(join(out, "summary.json"))).toMatchObject({
      status: "complete",
      totals: { rows: n, invalid: 6, pending: 0 },
    });
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
      /CSV syntax error: a quoted field is not closed \(line \d+\), after row 50/,
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
    const r = await vbapi(
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

describe("vbapi validate, entities, template", () => {
  it("lists invalid rows and repeated keys without sending anything (exit 1), a clean file exits 0", async () => {
    const dir = tempDir();
    const file = join(dir, "t.csv");
    writeFileSync(file, "tolerance_Key|tolerance1\n1|1\n2|x\n1|2\n3|\n");
    const requests = server.stats.requests;
    const r = await vbapi(["validate", "tolerances", file]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('row 2, column "tolerance1": is not a number');
    expect(r.stdout).toContain('row 4, column "tolerance1": is empty; tolerance1 is required');
    expect(r.stdout).toContain("warning: row 3 has the same key (tolerance_Key) as row 1");
    const json = await vbapi(["validate", "tolerances", file, "--json"]);
    expect(events(json.stdout).at(-1)).toEqual({
      event: "done",
      rows: 4,
      invalid: 2,
      duplicates: 1,
      valid: 2,
    });
    expect(server.stats.requests).toBe(requests);
  });

  it("entities come from the spec, and every template validates", async () => {
    const list = await vbapi(["entities", "--json"]);
    expect(list.code).toBe(0);
    const entities = JSON.parse(list.stdout) as {
      name: string;
      pathParams: { flag: string }[];
      fields: { name: string; required: boolean }[];
    }[];
    expect(entities.map((e) => e.name).sort()).toEqual([
      "armor-code-ex-codes",
      "claim-prompt-pays",
      "events",
      "provider-cred-services",
      "tolerances",
    ]);
    expect(entities.find((e) => e.name === "tolerances")?.fields).toContainEqual(
      expect.objectContaining({ name: "tolerance1", type: "number", required: true }),
    );
    const dir = tempDir();
    // Each entity's CSV template, and the NDJSON and JSON ones of one entity, pass validate.
    const cases = [
      ...entities.map((e) => ({ entity: e, format: "csv" })),
      { entity: entities.find((e) => e.name === "events"), format: "ndjson" },
      { entity: entities.find((e) => e.name === "provider-cred-services"), format: "json" },
    ];
    await Promise.all(
      cases.map(async ({ entity, format }) => {
        if (!entity) throw new Error("entity missing");
        const t = await vbapi(["template", entity.name, "--format", format]);
        const file = join(dir, `${entity.name}.${format}`);
        writeFileSync(file, t.stdout);
        // The spec's ProviderCredService example belongs to credentialing process 5021.
        const extra = entity.pathParams.flatMap((p) => [p.flag, "5021"]);
        const v = await vbapi(["validate", entity.name, file, ...extra]);
        expect({ entity: entity.name, format, code: v.code, out: v.stdout }).toEqual({
          entity: entity.name,
          format,
          code: 0,
          out: "",
        });
      }),
    );
  });
});
