// The run folder's journal (journal.ndjson), the truth about a run: written here one line at a
// time, and replayed on resume. Lines:
//   {"t":"s","n":2,"at":…}                    session 2 started
//   {"t":"r","n":1500}                        rows up to 1500 may have been read (and sent)
//   {"t":"c","fl":…,"sl":…,"s":2,"req":…,"ret":…,"rl":…,"ms":…,"c":[…],"u":[…],"f":[…],"i":[…]}
//                                             a commit: the result files' lengths, the session's
//                                             stats, the rows that became final by outcome
// Only a commit is fsynced; a torn last line (a crash mid-write) is dropped on replay.
import { closeSync, openSync, readSync } from "node:fs";
import { AppendFile } from "./append-file.ts";
import { RowSet } from "./row-set.ts";

/** How a row became final: created, updated, failed (refused), invalid (never sent). */
export type FinalCode = "c" | "u" | "f" | "i";
export const FINAL_CODES: readonly FinalCode[] = ["c", "u", "f", "i"];

export interface SessionStats {
  requests: number;
  retries: number;
  rateLimited: number;
  elapsedMs: number;
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
}

export interface Commit {
  failedLength: number;
  succeededLength: number;
  session: number;
  stats: SessionStats;
  final: Record<FinalCode, number[]>;
}

/** Appends journal lines (the journal has been cut back to its last complete line). */
export class JournalWriter {
  private readonly file: AppendFile;
  constructor(path: string) {
    this.file = new AppendFile(path);
  }

  startSession(session: number): void {
    this.write({ t: "s", n: session, at: new Date().toISOString() });
  }

  /** Not fsynced: it only has to survive the process, and it is written before the rows are sent. */
  readMark(row: number): void {
    this.write({ t: "r", n: row });
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

/** Reads the journal line by line (streamed in blocks), stopping at the first torn line. */
export function replayJournal(path: string): JournalState {
  const state: JournalState = {
    final: new RowSet(),
    counts: { c: 0, u: 0, f: 0, i: 0 },
    readMark: 0,
    failedLength: 0,
    succeededLength: 0,
    sessions: new Map(),
    validLength: 0,
  };
  const fd = openSync(path, "r");
  try {
    const block = Buffer.alloc(1 << 20);
    let carry = Buffer.alloc(0);
    let offset = 0;
    let sawCommit = false;
    for (;;) {
      const n = readSync(fd, block, 0, block.length, offset);
      if (n === 0) break;
      offset += n;
      let data = Buffer.concat([carry, block.subarray(0, n)]);
      let start = 0;
      for (;;) {
        const nl = data.indexOf(10, start);
        if (nl < 0) break;
        const text = data.toString("utf8", start, nl);
        let entry: Record<string, unknown>;
        try {
          entry = JSON.parse(text) as Record<string, unknown>;
        } catch {
          return state; // a torn line: everything after it is discarded
        }
        apply(state, entry);
        if (entry.t === "c") sawCommit = true;
        state.validLength += nl - start + 1;
        start = nl + 1;
      }
      data = data.subarray(start);
      carry = Buffer.from(data);
    }
    if (!sawCommit) throw new Error(`${path} has no commit: the run folder is incomplete`);
    return state;
  } finally {
    closeSync(fd);
  }
}

function apply(state: JournalState, entry: Record<string, unknown>): void {
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
      });
      return;
    case "c": {
      state.failedLength = Number(entry.fl);
      state.succeededLength = Number(entry.sl);
      state.sessions.set(Number(entry.s), {
        requests: Number(entry.req) || 0,
        retries: Number(entry.ret) || 0,
        rateLimited: Number(entry.rl) || 0,
        elapsedMs: Number(entry.ms) || 0,
      });
      for (const code of FINAL_CODES) {
        const rows = entry[code];
        if (!Array.isArray(rows)) continue;
        for (const row of rows) if (state.final.add(Number(row))) state.counts[code]++;
      }
      return;
    }
  }
}
