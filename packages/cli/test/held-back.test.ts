// A row held back behind an earlier row with the same key (its request got a gateway's 504: the
// server behind it may still apply it later) ends a finished run with exit 1 and nothing in
// failed.csv: what exit 1 is said to mean must cover it, and resume then sends the row.
import { cpSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type MockServer, startMockServer } from "@vbapi-sdk/mock-server";
import { afterAll, beforeAll, expect, it } from "vitest";
import { readCsv, readJson, start, tempDir, vbapi } from "./helpers.ts";

let server: MockServer;
beforeAll(async () => {
  server = await startMockServer({ rateLimit: false });
});
afterAll(() => server.close());

/** The bin's environment for the reference server and `database`. */
const envFor = (database: string) => ({
  VBAPI_BASE_URL: server.url,
  VBAPI_API_KEY: server.credentials.apiKey,
  VBAPI_TOKEN: server.credentials.token,
  VBAPI_DATABASE: database,
});

/**
 * Loads tolerance `rows` (CSV lines after the header) one row per request, one at a time, into
 * `database`, whose first request is answered 504 (a gateway gave up: the row may still land).
 */
async function afterOne504(database: string, rows: string) {
  const dir = tempDir();
  const file = join(dir, "t.csv");
  writeFileSync(file, `tolerance_Key,tolerance1\n${rows}`);
  const out = join(dir, "run");
  const env = envFor(database);
  const fault = server.faults.failNext(1, 504, { target: { database } });
  const args = ["upsert", "tolerances", file, "--out", out, "--chunk-size", "1"];
  const r = await vbapi([...args, "--concurrency", "1"], { env });
  fault.cancel();
  return { r, out, env };
}

it("a held-back row: exit 1 said to include rows not done yet, and resume sends it", async () => {
  const { r, out, env } = await afterOne504("HELD", "18,1\n7,7\n18,2\n");
  expect(r.code, r.stderr).toBe(1);
  // Why it is not done yet is said at the end of the run, in summary.json and in the report.
  expect(r.stderr).toMatch(/1 not done yet \(held back behind an earlier row with the same key/);
  expect(readJson(join(out, "summary.json")).totals).toMatchObject({ pending: 1, heldBack: 1 });
  // The client's retry of the 504 succeeded: nothing failed, one row is held back.
  expect(readCsv(join(out, "failed.csv"))).toEqual([]);
  const html = readFileSync(join(out, "report.html"), "utf8");
  const title = /data-exit-code="1" title="([^"]*)"/.exec(html)?.[1];
  expect(title).toMatch(/not done yet/);
  expect(html).toMatch(/1 row is not done yet \(held back behind an earlier row with the same key/);
  expect(html).not.toMatch(/or not reported on/);
  const help = await vbapi(["--help"]);
  expect(help.stdout).toMatch(/1 +some rows failed, were invalid or are not done yet/);
  // The 504'd attempt may still be applied: a resume at once holds the row back too, and says
  // until when; once that attempt is older than the client's timeout, resume sends it.
  const soon = await vbapi(["resume", out], { env });
  expect(soon.code, soon.stderr).toBe(1);
  expect(soon.stderr).toMatch(/held back until \S+: an earlier request with their keys/);
  agoBy(out, 31_000);
  const resumed = await vbapi(["resume", out], { env });
  expect(resumed.code, resumed.stderr).toBe(0);
  expect(server.store.get("HELD", "Tolerance", { tolerance_Key: 18 })?.body).toEqual({
    tolerance_Key: 18,
    tolerance1: 2,
  });
});

it("rows held back behind a 504 in a session that ended settled: a resume at once holds them, one after the client's timeout sends them all, in order", async () => {
  const { r, out, env } = await afterOne504("SETTLED", "18,1\n7,7\n18,2\n18,3\n18,4\n");
  expect(r.code, r.stderr).toBe(1);
  expect(readJson(join(out, "summary.json")).totals).toMatchObject({ pending: 3, heldBack: 3 });
  // The 504'd attempt of row 1 may still land after rows 3-5: not sent yet.
  const soon = await vbapi(["resume", out], { env });
  expect(soon.code, soon.stderr).toBe(1);
  expect(readJson(join(out, "summary.json")).totals).toMatchObject({ pending: 3, heldBack: 3 });
  expect(server.store.get("SETTLED", "Tolerance", { tolerance_Key: 18 })?.body).toMatchObject({
    tolerance1: 1,
  });
  // Past it, nothing of that session is on its way: one resume finishes the run (no cascade).
  agoBy(out, 31_000);
  const resumed = await vbapi(["resume", out], { env });
  expect(resumed.code, resumed.stderr).toBe(0);
  expect(readJson(join(out, "summary.json")).totals).toMatchObject({ pending: 0, heldBack: 0 });
  expect(server.store.get("SETTLED", "Tolerance", { tolerance_Key: 18 })?.body).toEqual({
    tolerance_Key: 18,
    tolerance1: 4,
  });
});

/** Resolves once `condition` holds (checked every 20 ms); fails after `ms`. */
async function until(condition: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * Edits the times of the run's session `n` (its start line, and its end line when it holds
 * one: the resume after a kill): `ms` moves its wall
 * clock time (positive: as if this machine's clock had gone back since), `upMs` its boot's
 * uptime (negative: as if that much more time had passed since), `otherBoot` drops its boot id
 * and uptime (a run folder from another host).
 */
function editSessionStart(
  out: string,
  n: number,
  edit: { ms?: number; upMs?: number; otherBoot?: boolean },
): void {
  const path = join(out, "journal.ndjson");
  const lines = readFileSync(path, "utf8").split("\n");
  const edited = lines.map((line) => {
    if (!line.startsWith('{"t":"s"') && !line.startsWith('{"t":"e"')) return line;
    const { boot, up, ...entry } = JSON.parse(line) as {
      n: number;
      at?: string;
      boot?: string;
      up?: number;
    };
    if (entry.n !== n || entry.at === undefined) return line;
    const at = new Date(Date.parse(entry.at) + (edit.ms ?? 0)).toISOString();
    if (edit.otherBoot || up === undefined) return JSON.stringify({ ...entry, at });
    return JSON.stringify({ ...entry, at, boot, up: up + (edit.upMs ?? 0) / 1000 });
  });
  writeFileSync(path, edited.join("\n"));
}

/**
 * Moves every time the journal recorded back `ms`, on both clocks (start and end lines,
 * requests): as if the run had happened that much earlier.
 */
function agoBy(out: string, ms: number): void {
  const path = join(out, "journal.ndjson");
  const lines = readFileSync(path, "utf8").split("\n");
  const moved = lines.map((line) => {
    if (line === "") return line;
    const entry = JSON.parse(line) as { t: string; at?: string; up?: number; ts?: number };
    if ((entry.t === "s" || entry.t === "e") && entry.at !== undefined) {
      entry.at = new Date(Date.parse(entry.at) - ms).toISOString();
      if (entry.up !== undefined) entry.up -= ms / 1000;
    }
    if (entry.t === "q" && entry.ts !== undefined) entry.ts -= ms;
    return JSON.stringify(entry);
  });
  writeFileSync(path, moved.join("\n"));
}

/**
 * Rows 1 to 3 are key 1 with old data, row 42 key 1 with the new; keys 2 to 39 between. The
 * first request (rows 1-20) reaches the server and is applied 3 s later: the process is killed
 * while it waits, so it lands after whatever a resume sends meanwhile.
 */
async function killedWithLateRequest(database: string) {
  const dir = tempDir();
  const file = join(dir, "t.csv");
  const rows = ["1,1", "1,3", "1,4", ...Array.from({ length: 38 }, (_, i) => `${i + 2},0`), "1,2"];
  writeFileSync(file, `tolerance_Key,tolerance1\n${rows.join("\n")}\n`);
  const out = join(dir, "run");
  const env = envFor(database);
  const late = server.faults.add({
    type: "delay",
    ms: 3_000,
    phase: "before-apply",
    count: 1,
    target: { database },
  });
  const run = start(
    ["upsert", "tolerances", file, "--out", out, "--chunk-size", "20", "--concurrency", "1"],
    { env },
  );
  await until(() => late.fired === 1, 15_000, "the first request to arrive");
  run.child.kill("SIGKILL");
  await run.done;
  const key1 = () => server.store.get(database, "Tolerance", { tolerance_Key: 1 });
  return { out, env, late, key1 };
}

it("kill -9 with a request in flight: resume holds back later rows with its key, and so does the next resume until that request is older than the client's timeout", async () => {
  const { out, env, late, key1 } = await killedWithLateRequest("KILLED");
  const resumed = await vbapi(["resume", out], { env });
  // Rows 2, 3 and 42 are not sent while row 1's first request may still land: not reported saved.
  expect(resumed.code, resumed.stderr).toBe(1);
  expect(resumed.stderr).toMatch(
    /3 not done yet \(all held back behind an earlier row with the same key/,
  );
  expect(readCsv(join(out, "succeeded.csv")).map((r) => r.row)).not.toContain("42");
  // A second resume at once: row 1 is final (re-sent), but the killed session's copy of it may
  // still land. Sending row 42 now would let that copy overwrite it after the run said it was
  // saved (a hostile review's finding). It is held back, and the end of the run says until when.
  const second = await vbapi(["resume", out], { env });
  expect(second.code, second.stderr).toBe(1);
  expect(second.stderr).toMatch(/3 not done yet \(all held back behind an earlier row/);
  const until30s = readJson(join(out, "summary.json")).heldBackUntil as string;
  // 30 s after the first resume started (the killed session's requests were all sent before).
  const session2 = readFileSync(join(out, "journal.ndjson"), "utf8")
    .split("\n")
    .map((line) => (line.startsWith('{"t":"s","n":2,') ? JSON.parse(line).at : undefined))
    .find((at) => at !== undefined) as string;
  expect(Math.abs(Date.parse(until30s) - Date.parse(session2) - 30_000)).toBeLessThan(100);
  expect(second.stderr).toContain(`held back until ${until30s}`);
  expect(second.stderr).toMatch(/the client's 30 s timeout\); resume after that/);
  expect(readCsv(join(out, "succeeded.csv")).map((r) => r.row)).not.toContain("42");
  // The report says it too: the page, and `vbapi report` as text.
  expect(readFileSync(join(out, "report.html"), "utf8")).toContain(
    `vbapi resume sends them after ${until30s}.`,
  );
  expect((await vbapi(["report", out])).stdout).toContain(`held back until ${until30s}`);
  // The late request lands (key 1's second write: the first resume's re-send of row 1 was the first).
  await until(() => key1()?.writes === 2, 15_000, "the late request to land");
  expect(key1()?.body).toEqual({ tolerance_Key: 1, tolerance1: 1 });
  // Once the killed session's requests are older than the client's timeout (30 s since the
  // first resume started: moved back here rather than waited for), one more resume sends all
  // three, in order.
  agoBy(out, 31_000);
  const again = await vbapi(["resume", out], { env });
  expect(again.code, again.stderr).toBe(0);
  expect(again.stderr).not.toMatch(/held back/);
  expect(readJson(join(out, "summary.json")).heldBackUntil).toBeUndefined();
  expect(readCsv(join(out, "succeeded.csv")).filter((r) => r.row === "42")).toHaveLength(1);
  expect(key1()?.body).toEqual({ tolerance_Key: 1, tolerance1: 2 });
  late.cancel();
});

it("a clock set back since the kill, or a run folder from another host: the rows wait 30 s from a moment this clock can time, not the hours between the clocks", async () => {
  const { out, env, late, key1 } = await killedWithLateRequest("CLOCKBACK");
  expect((await vbapi(["resume", out], { env })).code).toBe(1);
  await until(() => key1()?.writes === 2, 15_000, "the late request to land");
  // The first resume's start now lies an hour ahead of this machine's clock (set back since);
  // its uptime says seconds ago. The window runs from now: held, for 30 s, not an hour.
  editSessionStart(out, 2, { ms: 3_600_000 });
  const second = await vbapi(["resume", out], { env });
  expect(second.code, second.stderr).toBe(1);
  const secondUntil = Date.parse(readJson(join(out, "summary.json")).heldBackUntil as string);
  expect(secondUntil - Date.now()).toBeLessThan(30_000);
  expect(secondUntil - Date.now()).toBeGreaterThan(20_000);
  // A copy read on another host (no common boot): its times are not compared with this
  // host's clock at all; the rows wait 30 s from this resume, not an hour.
  const copy = join(tempDir(), "copy");
  cpSync(out, copy, { recursive: true });
  editSessionStart(copy, 2, { otherBoot: true });
  const elsewhere = await vbapi(["resume", copy], { env });
  expect(elsewhere.code, elsewhere.stderr).toBe(1);
  const heldUntil = Date.parse(readJson(join(copy, "summary.json")).heldBackUntil as string);
  expect(heldUntil - Date.now()).toBeLessThan(30_000);
  expect(heldUntil - Date.now()).toBeGreaterThan(20_000);
  expect(key1()?.body).toEqual({ tolerance_Key: 1, tolerance1: 1 });
  // The clock right again, the uptime an hour back (a time namespace counts from elsewhere, or
  // the journal was edited): the wall clock says seconds, so the rows stay held.
  editSessionStart(out, 2, { ms: -3_600_000, upMs: -3_600_000 });
  const namespaced = await vbapi(["resume", out], { env });
  expect(namespaced.code, namespaced.stderr).toBe(1);
  expect(key1()?.body).toEqual({ tolerance_Key: 1, tolerance1: 1 });
  // Both clocks 31 s past the first resume: row 42 is sent.
  agoBy(out, 31_000);
  const later = await vbapi(["resume", out], { env });
  expect(later.code, later.stderr).toBe(0);
  expect(key1()?.body).toEqual({ tolerance_Key: 1, tolerance1: 2 });
  late.cancel();
});

it("a request given up on (a gateway's 504, retried and saved), then Ctrl-C before a later row with its key is read: a resume at once holds that row, one 30 s after the session sends it", async () => {
  const dir = tempDir();
  const file = join(dir, "t.csv");
  const others = Array.from({ length: 200 }, (_, i) => `${i + 100},0`);
  writeFileSync(file, `tolerance_Key,tolerance1\n18,1\n${others.join("\n")}\n18,2\n`);
  const out = join(dir, "run");
  const database = "GAVEUP";
  const env = envFor(database);
  const key18 = () => server.store.get(database, "Tolerance", { tolerance_Key: 18 });
  const slow = server.faults.delay(20, { target: { database } });
  const gateway = server.faults.failNext(1, 504, { target: { database } });
  const run = start(
    ["upsert", "tolerances", file, "--out", out, "--chunk-size", "1", "--concurrency", "1"],
    { env },
  );
  await until(() => server.store.count(database, "Tolerance") >= 3, 15_000, "three rows saved");
  run.child.kill("SIGINT");
  const first = await run.done;
  expect(first.code).toBe(130);
  gateway.cancel();
  slow.cancel();
  // The end of that run already says when a resume will send the rows with that key...
  expect(first.stderr).toMatch(/held back until \S+: an earlier request with their keys/);
  const deadline = readJson(join(out, "summary.json")).heldBackUntil;
  // Nothing was held in that session (row 202 was never read), but the 504'd attempt of row 1
  // may still land: the end line says the session gave up on a request.
  const ends = readFileSync(join(out, "journal.ndjson"), "utf8")
    .split("\n")
    .filter((line) => line.startsWith('{"t":"e"'));
  expect(JSON.parse(ends.at(-1) as string)).toMatchObject({ g: 1 });
  const soon = await vbapi(["resume", out], { env });
  expect(soon.code, soon.stderr).toBe(1);
  expect(soon.stderr).toMatch(/held back until \S+: an earlier request with their keys/);
  // ...and the resume at once holds them until that same time.
  const again = readJson(join(out, "summary.json")).heldBackUntil as string;
  expect(Math.abs(Date.parse(again) - Date.parse(deadline as string))).toBeLessThan(100);
  expect(key18()?.body).toMatchObject({ tolerance1: 1 });
  agoBy(out, 31_000);
  const later = await vbapi(["resume", out], { env });
  expect(later.code, later.stderr).toBe(0);
  expect(key18()?.body).toMatchObject({ tolerance1: 2 });
});
