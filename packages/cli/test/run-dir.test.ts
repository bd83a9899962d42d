import { appendFileSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { RunConfig } from "../src/run-dir/config.ts";
import { replayJournal } from "../src/run-dir/journal.ts";
import { RowSet } from "../src/run-dir/row-set.ts";
import { RunFiles } from "../src/run-dir/run-files.ts";
import { tempDir } from "./helpers.ts";

const config = (format: "csv" | "ndjson" = "csv"): RunConfig => ({
  version: 1,
  command: "upsert",
  createdAt: new Date().toISOString(),
  entity: "tolerances",
  input: {
    path: "/nowhere.csv",
    size: 1,
    sha256: "0".repeat(64),
    format,
    gzip: false,
    delimiter: format === "csv" ? ";" : undefined,
    header: format === "csv" ? ["tolerance_Key", "tolerance1", "_row", "_message"] : undefined,
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
});
const stats = { requests: 1, retries: 0, rateLimited: 0, elapsedMs: 5, resent: 0 };

describe("RowSet", () => {
  it("grows and counts each row once", () => {
    const set = new RowSet();
    expect(set.add(3)).toBe(true);
    expect(set.add(3)).toBe(false);
    expect(set.add(1_000_000)).toBe(true);
    expect([set.has(3), set.has(4), set.has(1_000_000), set.has(5_000_000)]).toEqual([
      true,
      false,
      true,
      false,
    ]);
    expect(set.size).toBe(2);
  });
});

describe("run folder", () => {
  it("writes results in commits; a crash mid-commit is rolled back to the last complete commit", () => {
    const dir = join(tempDir(), "run");
    const files = RunFiles.create(dir, config(), ["tolerance_Key"]);
    files.addSucceeded(1, { tolerance_Key: 10 }, "created", "act-1", false);
    files.addFailed(2, { cells: ["11", "x", "7", "old message"] }, 0, "bad", "", false, true);
    files.commit(stats);
    const failedAfterCommit = readFileSync(join(dir, "failed.csv"), "utf8");
    const succeededAfterCommit = readFileSync(join(dir, "succeeded.csv"), "utf8");
    expect(failedAfterCommit).toBe(
      "tolerance_Key;tolerance1;_row;_status;_message;_activityId;_mayHaveBeenApplied\n11;x;2;0;bad;;false\n",
    );
    expect(succeededAfterCommit).toBe(
      "row,tolerance_Key,outcome,activityId,resent\n1,10,created,act-1,\n",
    );
    files.markRead(3, 50);
    files.close();

    // The process dies after writing results but before (all of) their journal line.
    appendFileSync(join(dir, "succeeded.csv"), "3,12,created,act-2,\n");
    appendFileSync(join(dir, "failed.csv"), "13;y;4;0;half-writ");
    appendFileSync(join(dir, "journal.ndjson"), '{"t":"c","fl":999,"sl":999,"s":1,"c":[3');

    const { files: reopened, state } = RunFiles.reopen(dir, ["tolerance_Key"]);
    expect(state.counts).toEqual({ c: 1, u: 0, f: 0, i: 1 });
    expect([state.final.has(1), state.final.has(2), state.final.has(3)]).toEqual([
      true,
      true,
      false,
    ]);
    expect(state.readMark).toBe(53);
    expect(reopened.sessionNumber).toBe(2);
    expect(readFileSync(join(dir, "failed.csv"), "utf8")).toBe(failedAfterCommit);
    expect(readFileSync(join(dir, "succeeded.csv"), "utf8")).toBe(succeededAfterCommit);
    reopened.addSucceeded(3, { tolerance_Key: 12 }, "updated", "act-3", true);
    reopened.commit(stats);
    reopened.close();
    const again = replayJournal(join(dir, "journal.ndjson"));
    expect(again.counts).toEqual({ c: 1, u: 1, f: 0, i: 1 });
    expect(again.validLength).toBe(statSync(join(dir, "journal.ndjson")).size);
    expect([...again.sessions.keys()]).toEqual([1, 2]);
    expect(readFileSync(join(dir, "succeeded.csv"), "utf8")).toBe(
      `${succeededAfterCommit}3,12,updated,act-3,true\n`,
    );
  });

  it("refuses a folder that already holds a run; failed.ndjson keeps the original record", () => {
    const dir = join(tempDir(), "run");
    RunFiles.create(dir, config(), ["tolerance_Key"]).close();
    expect(() => RunFiles.create(dir, config(), ["tolerance_Key"])).toThrow(
      /already holds a run: continue it with `vbapi resume/,
    );
    const nd = join(tempDir(), "nd");
    const files = RunFiles.create(nd, config("ndjson"), ["tolerance_Key"]);
    files.addFailed(
      1,
      { value: { tolerance_Key: 1, x: [1], _status: 500 } },
      409,
      "Conflict",
      "act",
      true,
      false,
    );
    files.commit(stats);
    files.close();
    expect(JSON.parse(readFileSync(join(nd, "failed.ndjson"), "utf8"))).toEqual({
      tolerance_Key: 1,
      x: [1],
      _row: 1,
      _status: 409,
      _message: "Conflict",
      _activityId: "act",
      _mayHaveBeenApplied: true,
    });
  });
});

describe("journal end lines (what a resume holds back for)", () => {
  const commit = (s: number) =>
    JSON.stringify({ t: "c", fl: 0, sl: 0, s, req: 0, ret: 0, rl: 0, ms: 0 });
  const replay = (...lines: object[]) => {
    const path = join(tempDir(), "journal.ndjson");
    appendFileSync(path, `${lines.map((l) => JSON.stringify(l)).join("\n")}\n`);
    appendFileSync(path, `${commit(1)}\n`);
    return replayJournal(path);
  };
  it("a session without an end line (killed, or requests aborted in flight) is not settled", () => {
    const state = replay({ t: "s", n: 1 }, { t: "r", n: 100 });
    expect(state).toMatchObject({ onItsWayMark: 100, readMark: 100 });
  });
  it("an end line settles its session; what it still owes is carried (h), else nothing", () => {
    expect(
      replay({ t: "s", n: 1 }, { t: "r", n: 100 }, { t: "s", n: 2 }, { t: "e", n: 2, h: 100 }),
    ).toMatchObject({ onItsWayMark: 100 });
    expect(
      replay({ t: "s", n: 1 }, { t: "e", n: 1, h: 100 }, { t: "s", n: 2 }, { t: "e", n: 2 }),
    ).toMatchObject({ onItsWayMark: 0 });
  });
  it("an end line of an earlier session does not settle a later one that was killed", () => {
    expect(
      replay({ t: "s", n: 1 }, { t: "e", n: 1 }, { t: "s", n: 2 }, { t: "r", n: 50 }),
    ).toMatchObject({ onItsWayMark: 50 });
  });
});

describe("journal: what a killed session may still have on its way (held back behind)", () => {
  const T = Date.parse("2026-12-07T10:00:00.000Z");
  const at = (ms: number) => new Date(ms).toISOString();
  const commit = (s: number, rows: Record<string, number[]> = {}) => ({
    t: "c",
    fl: 0,
    sl: 0,
    s,
    req: 0,
    ret: 0,
    rl: 0,
    ms: 0,
    ...rows,
  });
  const replay = (lines: object[], now = T + 3_600_000) => {
    const path = join(tempDir(), "journal.ndjson");
    appendFileSync(path, `${lines.map((l) => JSON.stringify(l)).join("\n")}\n`);
    const state = replayJournal(path, { wall: now }, 30_000);
    const resent = (rows: number[]) => rows.filter((row) => state.killed?.resent.has(row));
    return { state, resent };
  };

  it("no session killed: nothing", () => {
    const { state } = replay([
      { t: "s", n: 1, at: at(T) },
      { t: "r", n: 10 },
      commit(1, { c: [1, 2] }),
      { t: "e", n: 1 },
      { t: "s", n: 2, at: at(T + 1_000) },
      commit(2),
      { t: "e", n: 2, h: 0 },
    ]);
    expect(state.killed).toBeUndefined();
  });

  it("a killed session: its read rows made final after it, from the next session's start, and those it finished itself (an earlier attempt of theirs may land too); not invalid ones, not past its mark", () => {
    const { state, resent } = replay([
      { t: "s", n: 1, at: at(T) },
      { t: "r", n: 100 },
      commit(1, { c: [1, 2], u: [3] }), // answered before the kill: not on their way
      { t: "s", n: 2, at: at(T + 5_000) },
      commit(2, { c: [4], f: [5], i: [6] }),
      { t: "r", n: 300 },
      commit(2, { u: [150] }), // read only by session 2, which ended settled
      { t: "e", n: 2, h: 100 },
    ]);
    expect(state.killed).toMatchObject({ mark: 100, since: { wall: T + 5_000 } });
    expect(resent([1, 2, 3, 4, 5, 6, 150])).toEqual([1, 2, 3, 4, 5]);
  });

  it("the session killed last, with nothing after it: since is the resume's own start (now)", () => {
    const now = T + 7_000;
    const { state, resent } = replay(
      [
        { t: "s", n: 1, at: at(T) },
        { t: "r", n: 20 },
        commit(1, { c: [1] }),
        { t: "s", n: 2, at: at(T + 1_000) },
        commit(2, { c: [2] }),
        { t: "r", n: 40 },
      ],
      now,
    );
    expect(state.killed).toMatchObject({ mark: 40, since: { wall: now } });
    // Row 1 was answered in killed session 1, row 2 in killed session 2: both counted.
    expect(resent([1, 2])).toEqual([1, 2]);
  });

  it("a start time that cannot be read or lies before what the journal recorded: never an earlier bound", () => {
    const now = T + 9_000;
    const killedThenResumed = (after: object) => [
      { t: "s", n: 1, at: at(T) },
      { t: "r", n: 20 },
      { t: "q", ts: T + 2_000, ms: 5, st: 207, n: 1 },
      commit(1),
      after,
      commit(2, { c: [3] }),
      { t: "e", n: 2, h: 20 },
    ];
    // Missing, not ISO 8601 in UTC (`Date.parse("1")` is a day in 2001), or edited back to
    // before the killed session's own request: the latest time recorded before it, or later.
    for (const after of [
      { t: "s", n: 2 },
      { t: "s", n: 2, at: "1" },
    ]) {
      const { state } = replay(killedThenResumed(after), now);
      // Nothing readable after it: this resume's start.
      expect(state.killed?.since).toEqual({ wall: now });
    }
    const { state: back } = replay(killedThenResumed({ t: "s", n: 2, at: at(T - 86_400_000) }));
    expect(back.killed?.since).toEqual({ wall: T + 2_000 });
    // An unreadable one followed by a later session's start: that start, the same at every replay.
    const { state: next } = replay(
      [
        ...killedThenResumed({ t: "s", n: 2, at: "yesterday-ish" }),
        { t: "s", n: 3, at: at(T + 4_000) },
        commit(3),
        { t: "e", n: 3, h: 20 },
      ],
      now,
    );
    expect(next.killed?.since).toEqual({ wall: T + 4_000 });
  });

  it("on one boot, the shorter of wall clock and uptime counts: rows re-sent after an earlier kill stop counting once both say its window passed", () => {
    const stamp = (wall: number, up: number) => ({ at: at(wall), boot: "b-1", up });
    const lines = [
      { t: "s", n: 1, ...stamp(T, 100) },
      { t: "r", n: 20 },
      commit(1),
      // Session 2 resumes killed session 1, re-sends row 3 and ends settled.
      { t: "s", n: 2, ...stamp(T + 1_000, 101) },
      commit(2, { c: [3] }),
      { t: "e", n: 2, h: 20 },
      // Session 3 saves row 25 and is killed; this replay is its resume.
      { t: "s", n: 3, ...stamp(T + 2_000, 102) },
      { t: "r", n: 40 },
      commit(3, { c: [25] }),
    ];
    const replayed = (now: { wall: number; up: number }) => {
      const path = join(tempDir(), "journal.ndjson");
      appendFileSync(path, `${lines.map((l) => JSON.stringify(l)).join("\n")}\n`);
      const state = replayJournal(path, { ...now, boot: "b-1" }, 30_000);
      return { state, resent: [3, 25].filter((row) => state.killed?.resent.has(row)) };
    };
    // 40 s after session 2's start by both clocks: row 3's window has passed.
    const both = replayed({ wall: T + 41_000, up: 141 });
    expect(both.state.killed).toMatchObject({ mark: 40, since: { boot: "b-1", up: 141 } });
    expect(both.resent).toEqual([25]);
    // The wall clock set back an hour (uptime: 40 s), or an uptime 40 s on while the wall clock
    // says 10 s (a time namespace, an `up` edited by hand): the shorter counts, row 3 stays.
    expect(replayed({ wall: T - 3_600_000, up: 141 }).resent).toEqual([3, 25]);
    expect(replayed({ wall: T + 11_000, up: 141 }).resent).toEqual([3, 25]);
  });

  it("a session that ended settled but held rows back behind requests it gave up on (g): its final rows count as after a kill, from its end", () => {
    const { state, resent } = replay([
      { t: "s", n: 1, at: at(T) },
      { t: "r", n: 30 },
      commit(1, { c: [1, 2], i: [3] }),
      { t: "e", n: 1, g: 1, at: at(T + 4_000) },
    ]);
    expect(state.killed).toMatchObject({ mark: 30, since: { wall: T + 4_000 } });
    expect(resent([1, 2, 3])).toEqual([1, 2]);
    // Its rows not done yet may have an attempt on its way too: re-sent as such (the SDK holds
    // later rows with their keys behind them), as after a kill.
    expect(state.onItsWayMark).toBe(30);
    // Without g: nothing.
    expect(
      replay([
        { t: "s", n: 1, at: at(T) },
        { t: "r", n: 30 },
        commit(1, { c: [1] }),
        { t: "e", n: 1 },
      ]).state.killed,
    ).toBeUndefined();
  });

  it("a kill timed on another boot or host: its clock is not compared with this one's; the window runs from the first start on this boot after it, else now", () => {
    const elsewhere = { boot: "host-a", up: 9_000 };
    const killedElsewhere = [
      { t: "s", n: 1, at: at(T), ...elsewhere },
      { t: "r", n: 20 },
      commit(1),
      // Host A's clock runs an hour ahead: its time says the window passed long ago.
      { t: "s", n: 2, at: at(T - 3_600_000), ...elsewhere },
      commit(2, { c: [3] }),
      { t: "e", n: 2, h: 20 },
    ];
    const now = { wall: T + 60_000, boot: "host-b", up: 50 };
    const replayLines = (lines: object[]) => {
      const path = join(tempDir(), "journal.ndjson");
      appendFileSync(path, `${lines.map((l) => JSON.stringify(l)).join("\n")}\n`);
      return replayJournal(path, now, 30_000);
    };
    expect(replayLines(killedElsewhere).killed?.since).toEqual(now);
    const hereFirst = { t: "s", n: 3, at: at(T + 50_000), boot: "host-b", up: 40 };
    expect(
      replayLines([...killedElsewhere, hereFirst, commit(3), { t: "e", n: 3, h: 20 }]).killed
        ?.since,
    ).toEqual({ wall: T + 50_000, boot: "host-b", up: 40 });
  });
});
