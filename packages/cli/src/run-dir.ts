// The run folder: run.json (what was run, nothing secret), the journal, the result files
// (failed.csv|ndjson, succeeded.csv) and summary.json.
//
// Crash safety. Results are written in commits: the new result rows are appended to the result
// files and fsynced, then one journal line naming the rows that became final and the result
// files' new lengths is appended and fsynced. The journal is the truth: on resume, a torn last
// journal line is dropped and the result files are cut back to the lengths of the last commit,
// so whatever instant the process died at, every final row is in exactly one result file once.
import {
  closeSync,
  existsSync,
  fstatSync,
  fsyncSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  renameSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { join } from "node:path";
import { stringify } from "csv-stringify/sync";
import { RESULT_COLUMNS } from "./convert.ts";
import type { InputFormat } from "./read.ts";

export const RUN_FILE = "run.json";
export const JOURNAL_FILE = "journal.ndjson";
export const SUMMARY_FILE = "summary.json";
export const SUCCEEDED_FILE = "succeeded.csv";
export const LOCK_FILE = "run.lock";

/** What a run was asked to do: enough to resume it. Never holds credentials. */
export interface RunConfig {
  version: 1;
  command: "upsert";
  createdAt: string;
  /** CLI entity name (`tolerances`). */
  entity: string;
  input: {
    /** Absolute path, or "-" for stdin. */
    path: string;
    size: number | undefined;
    sha256: string | undefined;
    format: InputFormat;
    gzip: boolean;
    delimiter: string | undefined;
    /** CSV header as read (the failed file repeats these columns). */
    header: string[] | undefined;
  };
  convert: {
    map: Record<string, string | null> | undefined;
    ignoreColumns: string[];
    ignoreUnknownColumns: boolean;
    emptyAs: string;
    timezoneOffset: string;
  };
  pathParams: Record<string, number> | undefined;
  client: {
    baseUrl: string;
    database: string;
    chunkSize: number | undefined;
    concurrency: number | undefined;
    /** Requests per second, "off", or undefined for the SDK's default. */
    rateLimit: number | "off" | undefined;
  };
}

export type FinalCode = "c" | "u" | "f" | "i";

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

/** A growable bit set of row numbers: memory is one bit per row, not one object. */
export class RowSet {
  private bits = new Uint8Array(1024);
  size = 0;
  has(row: number): boolean {
    const byte = row >>> 3;
    return byte < this.bits.length && ((this.bits[byte] as number) & (1 << (row & 7))) !== 0;
  }
  add(row: number): boolean {
    const byte = row >>> 3;
    if (byte >= this.bits.length) {
      let n = this.bits.length;
      while (n <= byte) n *= 2;
      const grown = new Uint8Array(n);
      grown.set(this.bits);
      this.bits = grown;
    }
    const mask = 1 << (row & 7);
    if (((this.bits[byte] as number) & mask) !== 0) return false;
    this.bits[byte] = (this.bits[byte] as number) | mask;
    this.size++;
    return true;
  }
}

export function failedFileName(format: InputFormat): string {
  return format === "csv" ? "failed.csv" : "failed.ndjson";
}

/** The run folder of one session: appends results and journal commits. */
export class RunFiles {
  private readonly failedFd: number;
  private readonly succeededFd: number;
  private readonly journalFd: number;
  private failedLength: number;
  private succeededLength: number;
  private failedLines: string[] = [];
  private succeededRows: unknown[][] = [];
  private final: Record<FinalCode, number[]> = { c: [], u: [], f: [], i: [] };
  private pendingCount = 0;
  private readMark: number;
  private closed = false;
  readonly failedFile: string;
  /** Columns of the original file that the failed file repeats (CSV), by position. */
  private readonly keepColumns: number[] | undefined;

  private constructor(
    readonly dir: string,
    readonly config: RunConfig,
    readonly keyFields: readonly string[],
    state: { failedLength: number; succeededLength: number; readMark: number },
    private readonly session: number,
  ) {
    this.failedFile = join(dir, failedFileName(config.input.format));
    this.failedFd = openSync(this.failedFile, "r+");
    this.succeededFd = openSync(join(dir, SUCCEEDED_FILE), "r+");
    this.journalFd = openSync(join(dir, JOURNAL_FILE), "r+");
    this.failedLength = state.failedLength;
    this.succeededLength = state.succeededLength;
    this.readMark = state.readMark;
    const header = config.input.header;
    if (header) {
      const result = new Set<string>(RESULT_COLUMNS.map((c) => c.toLowerCase()));
      this.keepColumns = header.flatMap((c, i) => (result.has(c.toLowerCase()) ? [] : [i]));
    }
  }

  /** Creates a run folder for a new run. Throws when `dir` already holds a run. */
  static create(dir: string, config: RunConfig, keyFields: readonly string[]): RunFiles {
    mkdirSync(dir, { recursive: true });
    if (existsSync(join(dir, RUN_FILE))) {
      throw new Error(
        `${dir} already holds a run: continue it with \`vbapi resume ${dir}\` or choose another --out`,
      );
    }
    writeFileSync(
      join(dir, SUCCEEDED_FILE),
      stringify([["row", ...keyFields, "outcome", "activityId", "resent"]]),
    );
    let failedHeader = "";
    const header = config.input.header;
    if (header) {
      const result = new Set<string>(RESULT_COLUMNS.map((c) => c.toLowerCase()));
      failedHeader = stringify(
        [[...header.filter((c) => !result.has(c.toLowerCase())), ...RESULT_COLUMNS]],
        {
          delimiter: config.input.delimiter ?? ",",
        },
      );
    }
    writeFileSync(join(dir, failedFileName(config.input.format)), failedHeader);
    writeFileSync(join(dir, JOURNAL_FILE), "");
    const files = new RunFiles(
      dir,
      config,
      keyFields,
      {
        failedLength: Buffer.byteLength(failedHeader),
        succeededLength: fstatSize(join(dir, SUCCEEDED_FILE)),
        readMark: 0,
      },
      1,
    );
    files.journal({ t: "s", n: 1, at: new Date().toISOString() });
    files.commit({ requests: 0, retries: 0, rateLimited: 0, elapsedMs: 0 });
    // run.json last: its presence means the folder is complete enough to resume.
    writeFileSync(join(dir, `${RUN_FILE}.tmp`), `${JSON.stringify(config, null, 2)}\n`);
    renameSync(join(dir, `${RUN_FILE}.tmp`), join(dir, RUN_FILE));
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
    files.journal({ t: "s", n: session, at: new Date().toISOString() });
    return { files, state };
  }

  get sessionNumber(): number {
    return this.session;
  }

  /** Rows taken from the input before they can be sent: kept ahead of sending (no fsync needed for a process crash). */
  markRead(row: number, ahead: number): void {
    if (row <= this.readMark) return;
    this.readMark = row + ahead;
    this.journal({ t: "r", n: this.readMark });
  }

  addSucceeded(
    row: number,
    key: Record<string, unknown>,
    outcome: "created" | "updated",
    activityId: string,
    resent: boolean,
  ): void {
    this.succeededRows.push([
      row,
      ...this.keyFields.map((f) => key[f] ?? ""),
      outcome,
      activityId,
      resent ? "true" : "",
    ]);
    this.final[outcome === "created" ? "c" : "u"].push(row);
    this.pendingCount++;
  }

  addFailed(
    row: number,
    original: { cells?: string[] | undefined; value?: unknown },
    status: number,
    message: string,
    activityId: string,
    mayHaveBeenApplied: boolean,
    invalid: boolean,
  ): void {
    const extra = [row, status, message, activityId, mayHaveBeenApplied ? "true" : "false"];
    if (this.config.input.format === "csv") {
      const cells = original.cells ?? [];
      const kept = this.keepColumns
        ? cells.length === (this.config.input.header?.length ?? 0)
          ? this.keepColumns.map((i) => cells[i] ?? "")
          : cells
        : cells;
      this.failedLines.push(
        stringify([[...kept, ...extra]], { delimiter: this.config.input.delimiter ?? "," }),
      );
    } else {
      const value = original.value;
      const base =
        value !== null && typeof value === "object" && !Array.isArray(value)
          ? Object.fromEntries(
              Object.entries(value as Record<string, unknown>).filter(
                ([k]) => !RESULT_COLUMNS.includes(k as never),
              ),
            )
          : { _value: value };
      const out: Record<string, unknown> = { ...base };
      RESULT_COLUMNS.forEach((c, i) => {
        out[c] = c === "_mayHaveBeenApplied" ? mayHaveBeenApplied : extra[i];
      });
      this.failedLines.push(`${JSON.stringify(out)}\n`);
    }
    this.final[invalid ? "i" : "f"].push(row);
    this.pendingCount++;
  }

  /** Results added but not committed yet. */
  get uncommitted(): number {
    return this.pendingCount;
  }

  /** Appends the pending results, fsyncs them, then records them in the journal (fsynced). */
  commit(stats: SessionStats): void {
    if (this.closed) return;
    if (this.failedLines.length > 0) {
      this.failedLength += appendAt(this.failedFd, this.failedLength, this.failedLines.join(""));
      fsyncSync(this.failedFd);
    }
    if (this.succeededRows.length > 0) {
      this.succeededLength += appendAt(
        this.succeededFd,
        this.succeededLength,
        stringify(this.succeededRows),
      );
      fsyncSync(this.succeededFd);
    }
    const line: Record<string, unknown> = {
      t: "c",
      fl: this.failedLength,
      sl: this.succeededLength,
      s: this.session,
      req: stats.requests,
      ret: stats.retries,
      rl: stats.rateLimited,
      ms: Math.round(stats.elapsedMs),
    };
    for (const code of ["c", "u", "f", "i"] as const) {
      if (this.final[code].length > 0) line[code] = this.final[code];
    }
    this.journal(line);
    fsyncSync(this.journalFd);
    this.failedLines = [];
    this.succeededRows = [];
    this.final = { c: [], u: [], f: [], i: [] };
    this.pendingCount = 0;
  }

  private journalLength = -1;
  private journal(entry: Record<string, unknown>): void {
    if (this.journalLength < 0) this.journalLength = fstatSync(this.journalFd).size;
    this.journalLength += appendAt(
      this.journalFd,
      this.journalLength,
      `${JSON.stringify(entry)}\n`,
    );
  }

  writeSummary(summary: unknown): void {
    const tmp = join(this.dir, `${SUMMARY_FILE}.tmp`);
    writeFileSync(tmp, `${JSON.stringify(summary, null, 2)}\n`);
    renameSync(tmp, join(this.dir, SUMMARY_FILE));
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    closeSync(this.failedFd);
    closeSync(this.succeededFd);
    closeSync(this.journalFd);
  }
}

function appendAt(fd: number, position: number, text: string): number {
  const buffer = Buffer.from(text);
  let written = 0;
  while (written < buffer.length) {
    written += writeSync(fd, buffer, written, buffer.length - written, position + written);
  }
  return buffer.length;
}

function fstatSize(path: string): number {
  const fd = openSync(path, "r");
  try {
    return fstatSync(fd).size;
  } finally {
    closeSync(fd);
  }
}

function truncate(path: string, length: number): void {
  const fd = openSync(path, "r+");
  try {
    if (fstatSync(fd).size > length) {
      ftruncateSync(fd, length);
      fsyncSync(fd);
    }
  } finally {
    closeSync(fd);
  }
}

export function readRunConfig(dir: string): RunConfig {
  let config: RunConfig;
  try {
    config = JSON.parse(readFileSync(join(dir, RUN_FILE), "utf8")) as RunConfig;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new Error(
      code === "ENOENT"
        ? `${dir} is not a vbapi run folder (no ${RUN_FILE})`
        : `${join(dir, RUN_FILE)} is not readable (${code ?? "invalid JSON"})`,
    );
  }
  if (config.version !== 1 || config.command !== "upsert") {
    throw new Error(`${join(dir, RUN_FILE)} was written by another version of vbapi`);
  }
  return config;
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
      for (const code of ["c", "u", "f", "i"] as const) {
        const rows = entry[code];
        if (!Array.isArray(rows)) continue;
        for (const row of rows) if (state.final.add(Number(row))) state.counts[code]++;
      }
      return;
    }
  }
}
