// End-to-end (the built bin against the reference server): what the user reads agrees with what
// happened: one vocabulary (succeeded, failed, invalid) in the progress lines, the end-of-run
// report and the --json events, and counts with the right singular or plural.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { csvRun, env, server, upsertArgs } from "./e2e-setup.ts";
import { events, readJson, tempDir, vbapi } from "./helpers.ts";

/** One row the server refuses (key 1), four invalid rows. */
const MIXED = "tolerance_Key,tolerance1\n1,1\n2,x\n3,\n4,y\n5,z\n";

describe("what the user reads", () => {
  it("progress, report and --json count invalid rows as invalid, not failed", async () => {
    const { file, database, out } = csvRun(MIXED);
    const fault = server.faults.failRecords({
      keys: [{ tolerance_Key: 1 }],
      status: 409,
      target: { database },
    });
    const text = await vbapi(upsertArgs(file, database, out), { env });
    const json = await vbapi(upsertArgs(file, database, `${out}-json`, "--json"), { env });
    fault.cancel();
    expect(text.code).toBe(1);
    const lines = text.stderr.split("\n");
    const progress = lines.filter((l) => l.includes(" rows read,"));
    expect(progress.at(-1)).toContain("0 succeeded, 1 failed, 4 invalid");
    expect(lines).toContain(
      "tolerances: 5 rows: 0 succeeded (0 created, 0 updated), 1 failed, 4 invalid",
    );
    expect(readJson(join(out, "summary.json"))).toMatchObject({
      totals: { failed: 1, invalid: 4 },
    });
    const evs = events(json.stdout);
    expect(evs.filter((e) => e.event === "progress").at(-1)).toMatchObject({
      succeeded: 0,
      failed: 1,
      invalid: 4,
    });
    expect(evs.at(-1)).toMatchObject({ event: "done", totals: { failed: 1, invalid: 4 } });
  });

  it("one row, one request, one retry, one repeated key: singular; otherwise plural", async () => {
    const one = csvRun("tolerance_Key,tolerance1\n1,1\n");
    const r1 = await vbapi(upsertArgs(one.file, one.database, one.out), { env });
    expect(r1.code).toBe(0);
    expect(r1.stderr).toContain("tolerances: 1 row: 1 succeeded");
    expect(r1.stderr).toMatch(/ s, 1 request, 0 retries, 0 answered 429\n/);
    expect(r1.stderr).toMatch(/^1 row read, 1 sent, 1 succeeded, 0 failed, 0 invalid/m);

    const retried = csvRun("tolerance_Key,tolerance1\n1,1\n2,2\n");
    const fault = server.faults.failRecords({
      keys: [{ tolerance_Key: 2 }],
      status: 503,
      count: 1,
      target: { database: retried.database },
    });
    const r2 = await vbapi(upsertArgs(retried.file, retried.database, retried.out), { env });
    fault.cancel();
    expect(r2.code).toBe(0);
    expect(r2.stderr).toContain("tolerances: 2 rows: 2 succeeded");
    expect(r2.stderr).toMatch(/ s, 2 requests, 1 retry, 0 answered 429\n/);

    const dir = tempDir();
    const v1 = csvRun("tolerance_Key,tolerance1\n1,1\n2,2\n1,3\n");
    const validate = await vbapi(["validate", "tolerances", v1.file], { cwd: dir });
    expect(validate.stderr).toBe("3 rows: 3 valid, 0 invalid, 1 repeated key\n");
    const single = await vbapi(["validate", "tolerances", one.file], { cwd: dir });
    expect(single.stderr).toBe("1 row: 1 valid, 0 invalid, 0 repeated keys\n");
  });
});
