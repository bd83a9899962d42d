// End-to-end: runs stopped by a 401, Ctrl-C or kill -9, and `vbapi resume` (the built bin).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { csvRun, env, server, tolerancesCsv, upsertArgs } from "./e2e-setup.ts";
import { events, readCsv, readJson, start, vbapi } from "./helpers.ts";

describe("interrupted runs and vbapi resume", () => {
  it("a resume while another process works on the run folder: a plain message, exit 2", async () => {
    const { file, database, out } = csvRun(tolerancesCsv(40));
    // The first run's one request is held 20 s: the second process, however slow a loaded
    // machine makes its start, meets the lock (a 2 s hold could end before it got there).
    const slow = server.faults.delay(20_000, { target: { database } });
    const run = start(upsertArgs(file, database, out, "--chunk-size", "40"), { env });
    const deadline = Date.now() + 15_000;
    while (slow.fired === 0) {
      if (Date.now() > deadline) throw new Error("the first run's request never arrived");
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const second = await vbapi(["resume", out], { env });
    slow.cancel();
    expect(second.code).toBe(2);
    expect(second.stderr).toMatch(/^vbapi: another vbapi process \(pid \d+\) is working on /m);
    expect(second.stderr).not.toContain("unexpected error");
    // The first run still holds its lock, waiting on its answer, and its folder is intact: a
    // second Ctrl-C aborts it (exit 130) and a resume then loads all 40 rows.
    expect(run.child.exitCode).toBeNull();
    run.child.kill("SIGINT");
    await new Promise((resolve) => setTimeout(resolve, 100));
    run.child.kill("SIGINT");
    expect((await run.done).code).toBe(130);
    const resumed = await vbapi(["resume", out], { env });
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(readCsv(join(out, "succeeded.csv"))).toHaveLength(40);
  });

  it("--base-url on a run that VBA already answered: refused (exit 2), run.json and the journal untouched", async () => {
    const { file, database, out } = csvRun(tolerancesCsv(5));
    expect((await vbapi(upsertArgs(file, database, out), { env })).code).toBe(0);
    const runJson = readFileSync(join(out, "run.json"), "utf8");
    const journal = readFileSync(join(out, "journal.ndjson"), "utf8");
    // Another server would get the rest while the run's files named only one of the two.
    const r = await vbapi(["resume", out, "--base-url", "http://127.0.0.1:4999"], { env });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain(
      `--base-url: ${server.url} already answered 5 rows of this run; the rest would go to another server`,
    );
    expect(readFileSync(join(out, "run.json"), "utf8")).toBe(runJson);
    expect(readFileSync(join(out, "journal.ndjson"), "utf8")).toBe(journal);
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
    const slow = server.faults.delay(20_000, { target: { database }, phase: "before-apply" });
    const run = start(upsertArgs(file, database, out, "--chunk-size", "10", "--json"), { env });
    await new Promise<void>((resolve) => run.child.stdout?.once("data", () => resolve()));
    await new Promise((resolve) => setTimeout(resolve, 300));
    const stoppedAt = Date.now();
    run.child.kill("SIGINT");
    await new Promise((resolve) => setTimeout(resolve, 100));
    run.child.kill("SIGINT");
    const r = await run.done;
    expect(Date.now() - stoppedAt).toBeLessThan(15_000); // did not wait for the 20 s answers
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
    // The resent rows are the run's: a resume of the finished run resends nothing and keeps them.
    const resent = readCsv(join(out, "succeeded.csv")).filter((s) => s.resent === "true").length;
    expect(resent).toBeGreaterThan(0);
    expect(readJson(join(out, "summary.json"))).toMatchObject({ totals: { resent } });
    const again = await vbapi(["resume", out], { env });
    expect(again.code).toBe(0);
    expect(readJson(join(out, "summary.json"))).toMatchObject({
      totals: { resent },
      timings: { sessions: 3 },
    });
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
});
