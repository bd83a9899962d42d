// The run folder's journal (journal.ndjson), the truth about a run: written here one line at a
// time, and replayed on resume. Lines:
//   {"t":"s","n":2,"at":…}                    session 2 started; when the session before it did
//                                             not end settled, its requests were all sent before
//                                             this time (see KilledSession)
//   {"t":"r","n":1500}                        rows up to 1500 may have been read (and sent)
//   {"t":"c","fl":…,"sl":…,"s":2,"req":…,"ret":…,"rl":…,"ms":…,"rs":…,"c":[…],"u":[…],"f":[…],"i":[…]}
//                                             a commit: the result files' lengths, the session's
//                                             stats, the rows that became final by outcome
//   {"t":"e","n":2,"h":900}                  session 2 ended with no request of its own left on its way
//                                             (none aborted in flight, the process not killed);
//                                             rows up to h (0 or absent: none) may still be on
//                                             their way from an earlier session it did not finish
//                                             re-sending: the next session holds back behind those
//   {"t":"e","n":2,"g":1,"at":…}             ...and it held rows back behind requests it gave up on
//                                             (a timeout, a gateway's 504), which may still land:
//                                             until the client's timeout has passed since `at`, its
//                                             rows' keys hold later rows back, as after a kill
//   {"t":"q","ts":…,"ms":120,"st":207,"n":500}
//                                             an HTTP request of the session settled: when (epoch
//                                             ms), after how long, its status (0: no answer) and
//                                             how many records it carried (the HTML report's
//                                             timeline; journals before it have none)
// Only a commit is fsynced; a torn last line (a crash mid-write) is dropped on replay. Readers
// skip line types they do not know, so older and newer versions read each other's journals, and
// lines that are not a JSON object. The report also skips request lines whose numbers are
// impossible (a time outside the run, a negative duration), and counts what it skipped: a
// journal edited by hand or damaged on disk must not take the report (or the process) down.
import { closeSync, openSync, readSync } from "node:fs";
import { defaults } from "@vbapi-sdk/client";
import { AppendFile } from "./append-file.ts";
import { elapsedMs, type Stamp, sameBoot, stampNow, stampOf } from "./clock.ts";
import { RowSet } from "./row-set.ts";

/** How a row became final: created, updated, failed (refused), invalid (never sent). */
export type FinalCode = "c" | "u" | "f" | "i";
export const FINAL_CODES: readonly FinalCode[] = ["c", "u", "f", "i"];

export interface SessionStats {
  requests: number;
  retries: number;
  rateLimited: number;
  elapsedMs: number;
  /** Rows the session saved that an earlier session had read ("rs"; absent before it: 0). */
  resent: number;
}

/** What the journal says so far (replayed on resume). */
export interface JournalState {
  final: RowSet;
  counts: Record<FinalCode, number>;
  /** Every row up to this one may have been read (and sent) by an earlier session. */
  readMark: number;
  failedLength: number;
  succeededLength: number;
  sessions: Map<number, SessionStats>;
  /** Where the last complete journal line ends. */
  validLength: number;
  /**
   * Rows up to this one may still be in a request of an earlier session, to be applied late:
   * every row read when the last session did not end settled (no end line: killed, or requests
   * aborted in flight), else what its end line says it still owes (`h`, 0 when nothing).
   */
  onItsWayMark: number;
  /**
   * A session that did not end settled (killed, or requests aborted in flight) and was resumed:
   * its requests, still unanswered, may reach VBA late, after a later session re-sent their rows.
   * Undefined when every session but the one resumed now ended settled (see KilledSession).
   */
  killed: KilledSession | undefined;
}

/**
 * What the last session that did not end settled may still have on its way (and any before it):
 * its rows up to `mark` that were not final when it died. A later session that re-sent one of
 * them made it final (`resent`), but the killed copy may still land, after anything of its key
 * sent since: until its requests are older than the client's timeout, counted from `since`.
 */
export interface KilledSession {
  /** Rows up to this one may have been read (and sent) by a session that did not end settled. */
  mark: number;
  /**
   * When the session after it started: every request of the killed session was sent before.
   * Never earlier than a time the journal recorded before it (a start time edited back changes
   * nothing); when its start line has no readable time, the next start line's time; the session
   * being resumed now: now. When that time is from another boot or host than now's, the first
   * start on this boot after the kill, else now (clocks of two hosts are not compared).
   */
  since: Stamp;
  /** Rows up to `mark` that sessions after the kill made final (sent: not the invalid ones). */
  resent: RowSet;
}

export interface Commit {
  failedLength: number;
  succeededLength: number;
  session: number;
  stats: SessionStats;
  final: Record<FinalCode, number[]>;
}

/** One HTTP request of a session, as it settled (answered, or failed without an answer). */
export interface SettledRequest {
  /** When it settled (its answer's status line arrived, or it failed): epoch milliseconds. */
  at: number;
  /** How long it took, in milliseconds. */
  ms: number;
  /** The answer's HTTP status; 0 when there was none (connection lost, timed out, aborted). */
  status: number;
  /** Records in its body, when it carried a JSON array. */
  records: number | undefined;
}

/** Appends journal lines (the journal has been cut back to its last complete line). */
export class JournalWriter {
  private readonly file: AppendFile;
  constructor(path: string) {
    this.file = new AppendFile(path);
  }

  /** `now`: when, with the boot's id and uptime where known (see clock.ts). */
  startSession(session: number, now: Stamp = stampNow()): void {
    const line: Record<string, unknown> = {
      t: "s",
      n: session,
      at: new Date(now.wall).toISOString(),
    };
    if (now.boot !== undefined) Object.assign(line, { boot: now.boot, up: now.up });
    this.write(line);
  }

  /**
   * The session ended with every request it sent answered or given up on, none aborted; rows up
   * to `owed` may still be on their way from an earlier session (it did not finish them).
   */
  endSession(session: number, owed: number, gaveUp?: Stamp): void {
    const line: Record<string, unknown> = { t: "e", n: session };
    if (owed > 0) line.h = owed;
    if (gaveUp !== undefined) {
      // Requests it gave up on may still land (see KilledSession): from now, as after a kill.
      Object.assign(line, { g: 1, at: new Date(gaveUp.wall).toISOString() });
      if (gaveUp.boot !== undefined) Object.assign(line, { boot: gaveUp.boot, up: gaveUp.up });
    }
    this.write(line);
  }

  /** Not fsynced: it only has to survive the process, and it is written before the rows are sent. */
  readMark(row: number): void {
    this.write({ t: "r", n: row });
  }

  /** Not fsynced: the next commit's fsync takes it along (a crash may lose the last few). */
  request(request: SettledRequest): void {
    const line: Record<string, unknown> = {
      t: "q",
      ts: request.at,
      ms: Math.round(request.ms),
      st: request.status,
    };
    if (request.records !== undefined) line.n = request.records;
    this.write(line);
  }

  /** Appends a commit line and fsyncs it: from here on, its rows are final. */
  commit(commit: Commit): void {
    const line: Record<string, unknown> = {
      t: "c",
      fl: commit.failedLength,
      sl: commit.succeededLength,
      s: commit.session,
      req: commit.stats.requests,
      ret: commit.stats.retries,
      rl: commit.stats.rateLimited,
      ms: Math.round(commit.stats.elapsedMs),
      rs: commit.stats.resent,
    };
    for (const code of FINAL_CODES) {
      if (commit.final[code].length > 0) line[code] = commit.final[code];
    }
    this.write(line);
    this.file.sync();
  }

  close(): void {
    this.file.close();
  }

  private write(entry: Record<string, unknown>): void {
    this.file.append(`${JSON.stringify(entry)}\n`);
  }
}

/** Journal lines a reader could not use: damage (by hand, a tool, the disk), not a crash. */
export interface JournalDamage {
  /** Complete lines skipped: not a JSON object, or (the report) a line with impossible numbers. */
  skipped: number;
  /** The line (1-based) that is not JSON, where reading stopped; a torn last line is not one. */
  stoppedAt: number | undefined;
}

/**
 * Calls `visit` with each complete line of the journal that is a JSON object and the offset where
 * it ends, reading in blocks (the journal is never read whole). Other JSON values are skipped
 * and counted. Stops at the first line that is not JSON: a torn last line (a crash mid-write) has
 * no new line and is never read; a complete line that is not JSON is damage, and named.
 */
function forEachEntry(
  path: string,
  visit: (entry: Record<string, unknown>, end: number) => void,
): JournalDamage {
  const damage: JournalDamage = { skipped: 0, stoppedAt: undefined };
  const fd = openSync(path, "r");
  try {
    const block = Buffer.alloc(1 << 20);
    let carry = Buffer.alloc(0);
    let offset = 0;
    let end = 0;
    let line = 0;
    for (;;) {
      const n = readSync(fd, block, 0, block.length, offset);
      if (n === 0) return damage;
      offset += n;
      const data = Buffer.concat([carry, block.subarray(0, n)]);
      let start = 0;
      for (;;) {
        const nl = data.indexOf(10, start);
        if (nl < 0) break;
        line++;
        let entry: unknown;
        try {
          entry = JSON.parse(data.toString("utf8", start, nl));
        } catch {
          damage.stoppedAt = line; // everything after it is discarded
          return damage;
        }
        end += nl - start + 1;
        if (entry !== null && typeof entry === "object" && !Array.isArray(entry)) {
          visit(entry as Record<string, unknown>, end);
        } else {
          damage.skipped++;
        }
        start = nl + 1;
      }
      carry = Buffer.from(data.subarray(start));
    }
  } finally {
    closeSync(fd);
  }
}

/** A row number a journal can hold (the rows' bit set counts up to 2^32). */
const isRow = (row: unknown): row is number =>
  typeof row === "number" && Number.isInteger(row) && row >= 1 && row < 2 ** 32;

/** A count or a length: a non-negative integer. */
const isCount = (n: unknown): n is number =>
  typeof n === "number" && Number.isSafeInteger(n) && n >= 0;

/**
 * Reads the journal line by line, stopping at the first torn line. `now`: the resume's start;
 * `windowMs`: how long a killed session's requests may still land (the client's timeout).
 */
export function replayJournal(
  path: string,
  now: Stamp = stampNow(),
  windowMs: number = defaults.timeoutMs,
): JournalState {
  const state: JournalState = {
    final: new RowSet(),
    counts: { c: 0, u: 0, f: 0, i: 0 },
    readMark: 0,
    failedLength: 0,
    succeededLength: 0,
    sessions: new Map(),
    validLength: 0,
    onItsWayMark: 0,
    killed: undefined,
  };
  let sawCommit = false;
  /** A session has started; the last one started has an end line; what that line owes. */
  let started = false;
  let settled = false;
  let owed = 0;
  /** The latest time the journal recorded so far (start lines, requests): epoch ms. */
  let latest = Number.NEGATIVE_INFINITY;
  /** The last kill's `since` waits for the next readable start time. */
  let sinceUnread = false;
  /** The first start after the last kill on this boot (now's): see KilledSession's `since`. */
  let firstHere: Stamp | undefined;
  /** Rows the last session started made final (sent: not the invalid ones). */
  let sessionFinal = new RowSet();
  /** The last session's end line says it gave up on requests (g). */
  let gaveUp = false;
  /** The last session started did not end settled: from `since`, its rows may land late. */
  const killedAt = (since: Stamp, resumedNow = false) => {
    const earlier = state.killed;
    // Rows re-sent after an earlier kill hold keys back only while that kill's requests may land
    // (told only between times of one boot, or where no time has a boot: else they stay).
    const comparable =
      earlier !== undefined &&
      (sameBoot(earlier.since, since) ||
        (earlier.since.boot === undefined && since.boot === undefined));
    const carried =
      earlier !== undefined &&
      (sinceUnread || !comparable || elapsedMs(earlier.since, since) < windowMs);
    firstHere = sameBoot(since, now) ? since : undefined;
    const resent = carried ? earlier.resent : new RowSet();
    // The rows it made final itself: an earlier attempt of theirs it gave up on (a 504, then a
    // retry answered) may land too.
    resent.addAll(sessionFinal);
    state.killed = {
      mark: state.readMark,
      // A recorded start time is never taken as earlier than what the journal recorded before.
      since: resumedNow ? since : { ...since, wall: Math.max(since.wall, latest) },
      resent,
    };
  };
  forEachEntry(path, (entry, end) => {
    if (entry.t === "s") {
      const stamp = stampOf(entry);
      const afterKill = started && !settled;
      // A clock set back since the last kill on this boot (the uptime went on): its `since` lies
      // in this line's future; this start is a later moment with a consistent clock, and the
      // window runs from it (at most one window more). Never an earlier moment: on one boot the
      // uptime says which came first.
      const killed = state.killed;
      if (
        !afterKill &&
        stamp !== undefined &&
        killed !== undefined &&
        sameBoot(stamp, killed.since) &&
        (stamp.up as number) >= (killed.since.up as number) &&
        stamp.wall < killed.since.wall
      ) {
        killed.since = stamp;
      }
      if (afterKill) {
        killedAt(stamp ?? { wall: latest });
        sinceUnread = stamp === undefined;
      } else if (sinceUnread && stamp !== undefined && state.killed !== undefined) {
        // The start time after a kill was unreadable (edited by hand): the next one, later still.
        state.killed.since = stamp;
        sinceUnread = false;
      }
      if (stamp !== undefined && firstHere === undefined && sameBoot(stamp, now)) firstHere = stamp;
      if (stamp !== undefined) latest = Math.max(latest, stamp.wall);
      started = true;
      settled = false;
      gaveUp = false;
      sessionFinal = new RowSet();
    } else if (entry.t === "q" && typeof entry.ts === "number" && Number.isFinite(entry.ts)) {
      latest = Math.max(latest, entry.ts);
    }
    apply(state, entry, sessionFinal);
    if (entry.t === "c") sawCommit = true;
    if (entry.t === "e" && Number(entry.n) === Math.max(0, ...state.sessions.keys())) {
      settled = true;
      owed = isCount(entry.h) ? entry.h : 0;
      gaveUp = entry.g === 1;
      if (gaveUp) {
        // Its given-up requests were all sent before its end: as if it had been killed there
        // (the rows it made final, and every row it read, may have an attempt still to land).
        const stamp = stampOf(entry);
        killedAt(stamp ?? { wall: latest });
        sinceUnread = stamp === undefined;
      }
    }
    state.validLength = end;
  });
  if (!sawCommit) throw new Error(`${path} has no commit: the run folder is incomplete`);
  if (!settled) killedAt(now, true);
  else if (sinceUnread && state.killed !== undefined) state.killed.since = now;
  // A kill timed on another boot or host: its clock is not compared with this one's (hours
  // apart, either way). The window runs from the first start on this boot after it, else now:
  // at most one window longer, never shorter.
  const killed = state.killed;
  if (killed !== undefined && now.boot !== undefined && !sameBoot(killed.since, now)) {
    killed.since = firstHere ?? now;
  }
  // ...and one set back before this resume, on this boot: from now.
  if (killed !== undefined && sameBoot(killed.since, now) && now.wall < killed.since.wall) {
    killed.since = now;
  }
  state.onItsWayMark = settled && !gaveUp ? owed : state.readMark;
  return state;
}

/** A session as the journal tells it, for the report. */
export interface SessionHistory {
  session: number;
  /** When it started (ISO 8601), from its start line. */
  startedAt: string | undefined;
  /** Its stats at its last commit. */
  stats: SessionStats;
  /** Its request lines: 0 for a session written before the journal had them. */
  requestLines: number;
}

/** Request times the report accepts: a request settles during its session, not before it started. */
export interface RequestWindow {
  /** Epoch ms of the run's start: the earliest time for a session without a start line. */
  from: number | undefined;
  /** Epoch ms after which no request can have settled (when the report is written). */
  to: number;
}

/** How far a request's time may lie outside its window (clocks are adjusted while a run runs). */
const SLACK_MS = 60_000;

/** The request of a `q` line, or undefined when its numbers are impossible. */
function requestOf(
  entry: Record<string, unknown>,
  session: SessionHistory,
  window: RequestWindow,
): SettledRequest | undefined {
  const { ts, ms, st, n } = entry;
  if (typeof ts !== "number" || typeof ms !== "number" || !(ms >= 0 && ms < 2 ** 53)) return;
  if (typeof st !== "number" || !Number.isInteger(st) || st < 0 || st > 999) return;
  if (n !== undefined && !isCount(n)) return;
  const started = session.startedAt === undefined ? Number.NaN : Date.parse(session.startedAt);
  const from = Number.isFinite(started) && started <= window.to ? started : (window.from ?? 0);
  if (!(ts >= Math.max(0, from - SLACK_MS) && ts <= window.to + SLACK_MS)) return;
  return { at: ts, ms, status: st, records: n as number | undefined };
}

/**
 * The run's history for the report: every session, the final rows by outcome, the failed file's
 * committed length, and each settled request (given to `onRequest` with its session, whose start
 * line precedes it, as it is read: a long run is never held whole). Stops at a line that is not
 * JSON; unlike `replayJournal` it does not need a commit. Lines it cannot use (not an object, a
 * request outside `window` or with impossible numbers, a commit with impossible rows or length)
 * are skipped, and counted in `damage`.
 */
export function readJournalHistory(
  path: string,
  window: RequestWindow,
  onRequest: (session: SessionHistory, request: SettledRequest) => void,
): {
  sessions: SessionHistory[];
  counts: Record<FinalCode, number>;
  failedLength: number | undefined;
  damage: JournalDamage;
} {
  const sessions = new Map<number, SessionHistory>();
  const counts: Record<FinalCode, number> = { c: 0, u: 0, f: 0, i: 0 };
  const final = new RowSet();
  let current = 0;
  let failedLength: number | undefined;
  let skipped = 0;
  const sessionOf = (n: number): SessionHistory => {
    let s = sessions.get(n);
    if (s === undefined) {
      s = {
        session: n,
        startedAt: undefined,
        stats: { requests: 0, retries: 0, rateLimited: 0, elapsedMs: 0, resent: 0 },
        requestLines: 0,
      };
      sessions.set(n, s);
    }
    return s;
  };
  const damage = forEachEntry(path, (entry) => {
    if (entry.t === "s") {
      current = isCount(entry.n) ? entry.n : 0;
      sessionOf(current).startedAt = typeof entry.at === "string" ? entry.at : undefined;
    } else if (entry.t === "c") {
      sessionOf(isCount(entry.s) && entry.s > 0 ? entry.s : current).stats = statsOf(entry);
      let whole = isCount(entry.fl);
      failedLength = whole ? (entry.fl as number) : undefined;
      for (const code of FINAL_CODES) {
        const rows = entry[code];
        if (rows === undefined) continue;
        if (!Array.isArray(rows)) {
          whole = false;
          continue;
        }
        for (const row of rows) {
          if (!isRow(row)) whole = false;
          else if (final.add(row)) counts[code]++;
        }
      }
      if (!whole) skipped++;
    } else if (entry.t === "q") {
      const session = sessionOf(current);
      session.requestLines++;
      const request = requestOf(entry, session, window);
      if (request === undefined) skipped++;
      else onRequest(session, request);
    }
  });
  damage.skipped += skipped;
  return {
    sessions: [...sessions.values()].sort((a, b) => a.session - b.session),
    counts,
    failedLength,
    damage,
  };
}

function statsOf(entry: Record<string, unknown>): SessionStats {
  return {
    requests: Number(entry.req) || 0,
    retries: Number(entry.ret) || 0,
    rateLimited: Number(entry.rl) || 0,
    elapsedMs: Number(entry.ms) || 0,
    resent: Number(entry.rs) || 0,
  };
}

function apply(state: JournalState, entry: Record<string, unknown>, sessionFinal?: RowSet): void {
  switch (entry.t) {
    case "r":
      state.readMark = Math.max(state.readMark, Number(entry.n) || 0);
      return;
    case "s":
      state.sessions.set(Number(entry.n), {
        requests: 0,
        retries: 0,
        rateLimited: 0,
        elapsedMs: 0,
        resent: 0,
      });
      return;
    case "c": {
      state.failedLength = Number(entry.fl);
      state.succeededLength = Number(entry.sl);
      state.sessions.set(Number(entry.s), statsOf(entry));
      const killed = state.killed;
      for (const code of FINAL_CODES) {
        const rows = entry[code];
        if (!Array.isArray(rows)) continue;
        for (const row of rows) {
          if (!isRow(row) || !state.final.add(row)) continue;
          state.counts[code]++;
          if (code === "i") continue;
          if (killed !== undefined && row <= killed.mark) killed.resent.add(row);
          sessionFinal?.add(row);
        }
      }
      return;
    }
  }
}
