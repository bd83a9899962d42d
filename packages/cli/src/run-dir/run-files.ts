// The run folder of one session: run.json (what was run, nothing secret), the journal, the
// result files (failed.csv|ndjson, succeeded.csv) and summary.json.
//
// Crash safety. Results are written in commits: the new result rows are appended to the result
// files and fsynced, then one journal line naming the rows that became final and the result
// files' new lengths is appended and fsynced. The journal is the truth: on resume, a torn last
// journal line is dropped and the result files are cut back to the lengths of the last commit,
// so whatever instant the process died at, every final row is in exactly one result file once.
import { existsSync, mkdirSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { stringify } from "csv-stringify/sync";
import { safeJson } from "../safe-text.ts";
import { AppendFile, truncate } from "./append-file.ts";
import type { Stamp } from "./clock.ts";
import {
  failedFileName,
  JOURNAL_FILE,
  RUN_FILE,
  type RunConfig,
  readRunConfig,
  SUCCEEDED_FILE,
  SUMMARY_FILE,
  writeRunConfig,
} from "./config.ts";
import {
  type FinalCode,
  type JournalState,
  JournalWriter,
  replayJournal,
  type SessionStats,
  type SettledRequest,
} from "./journal.ts";
import {
  FailedRowFormat,
  failedHeader,
  type OriginalRow,
  succeededHeader,
  succeededRow,
} from "./results.ts";

const noFinalRows = (): Record<FinalCode, number[]> => ({ c: [], u: [], f: [], i: [] });

/** The run folder of one session: appends results and journal commits. */
export class RunFiles {
  private readonly failed: AppendFile;
  private readonly succeeded: AppendFile;
  private readonly journal: JournalWriter;
  private readonly failedFormat: FailedRowFormat;
  private failedLines: string[] = [];
  private succeededRows: unknown[][] = [];
  private final = noFinalRows();
  private readMark: number;
  private closed = false;

  private constructor(
    readonly dir: string,
    readonly config: RunConfig,
    readonly keyFields: readonly string[],
    state: { failedLength: number; succeededLength: number; readMark: number },
    private readonly session: number,
  ) {
    this.failed = new AppendFile(
      join(dir, failedFileName(config.input.format)),
      state.failedLength,
    );
    this.succeeded = new AppendFile(join(dir, SUCCEEDED_FILE), state.succeededLength);
    this.journal = new JournalWriter(join(dir, JOURNAL_FILE));
    this.failedFormat = new FailedRowFormat(config);
    this.readMark = state.readMark;
  }

  /** Creates a run folder for a new run. Throws when `dir` already holds a run. */
  static create(dir: string, config: RunConfig, keyFields: readonly string[]): RunFiles {
    mkdirSync(dir, { recursive: true });
    if (existsSync(join(dir, RUN_FILE))) {
      throw new Error(
        `${dir} already holds a run: continue it with \`vbapi resume ${dir}\` or choose another --out`,
      );
    }
    const succeeded = succeededHeader(keyFields);
    const failed = failedHeader(config);
    writeFileSync(join(dir, SUCCEEDED_FILE), succeeded);
    writeFileSync(join(dir, failedFileName(config.input.format)), failed);
    writeFileSync(join(dir, JOURNAL_FILE), "");
    const files = new RunFiles(
      dir,
      config,
      keyFields,
      {
        failedLength: Buffer.byteLength(failed),
        succeededLength: Buffer.byteLength(succeeded),
        readMark: 0,
      },
      1,
    );
    files.journal.startSession(1);
    files.commit({ requests: 0, retries: 0, rateLimited: 0, elapsedMs: 0, resent: 0 });
    // run.json last: its presence means the folder is complete enough to resume.
    writeRunConfig(dir, config);
    return files;
  }

  /** Reopens a run folder after an interruption: replays the journal and repairs the files. */
  static reopen(
    dir: string,
    keyFields: readonly string[],
  ): { files: RunFiles; state: JournalState } {
    const config = readRunConfig(dir);
    const state = replayJournal(join(dir, JOURNAL_FILE));
    truncate(join(dir, JOURNAL_FILE), state.validLength);
    truncate(join(dir, failedFileName(config.input.format)), state.failedLength);
    truncate(join(dir, SUCCEEDED_FILE), state.succeededLength);
    const session = Math.max(0, ...state.sessions.keys()) + 1;
    const files = new RunFiles(dir, config, keyFields, state, session);
    files.journal.startSession(session);
    return { files, state };
  }

  get sessionNumber(): number {
    return this.session;
  }

  /**
   * The session ends with none of its requests left on its way; rows up to `owed` may still be
   * on their way from an earlier session (see JournalState).
   */
  endSettled(owed: number, gaveUp?: Stamp): void {
    if (this.closed) return;
    this.journal.endSession(this.session, owed, gaveUp);
  }

  /** Rows taken from the input before they can be sent: kept ahead of sending (no fsync needed for a process crash). */
  markRead(row: number, ahead: number): void {
    if (row <= this.readMark) return;
    this.readMark = row + ahead;
    this.journal.readMark(this.readMark);
  }

  /**
   * A request settled: one journal line, fsynced by the next commit. A failed write is not the
   * request's failure (the fetch must not throw for it): the next commit meets the same disk and
   * stops the run.
   */
  requestSettled(request: SettledRequest): void {
    if (this.closed) return;
    try {
      this.journal.request(request);
    } catch {
      // see above
    }
  }

  addSucceeded(
    row: number,
    key: Record<string, unknown>,
    outcome: "created" | "updated",
    activityId: string,
    resent: boolean,
  ): void {
    this.succeededRows.push(succeededRow(this.keyFields, row, key, outcome, activityId, resent));
    this.final[outcome === "created" ? "c" : "u"].push(row);
  }

  addFailed(
    row: number,
    original: OriginalRow,
    status: number,
    message: string,
    activityId: string,
    mayHaveBeenApplied: boolean,
    invalid: boolean,
  ): void {
    this.failedLines.push(
      this.failedFormat.format(row, original, { status, message, activityId, mayHaveBeenApplied }),
    );
    this.final[invalid ? "i" : "f"].push(row);
  }

  /** Appends the pending results, fsyncs them, then records them in the journal (fsynced). */
  commit(stats: SessionStats): void {
    if (this.closed) return;
    if (this.failedLines.length > 0) {
      this.failed.append(this.failedLines.join(""));
      this.failed.sync();
    }
    if (this.succeededRows.length > 0) {
      this.succeeded.append(stringify(this.succeededRows));
      this.succeeded.sync();
    }
    this.journal.commit({
      failedLength: this.failed.size,
      succeededLength: this.succeeded.size,
      session: this.session,
      stats,
      final: this.final,
    });
    this.failedLines = [];
    this.succeededRows = [];
    this.final = noFinalRows();
  }

  writeSummary(summary: unknown): void {
    const tmp = join(this.dir, `${SUMMARY_FILE}.tmp`);
    writeFileSync(tmp, `${safeJson(summary, 2)}\n`);
    renameSync(tmp, join(this.dir, SUMMARY_FILE));
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.failed.close();
    this.succeeded.close();
    this.journal.close();
  }
}
