// What the HTML report shows, read from a run folder: run.json (what was run), summary.json (how
// it ended), the journal (sessions, final rows, and when each request settled) and the failed
// file (grouped messages). Everything here is untrusted text to the page: template.ts escapes it.
// Nothing secret is in a run folder; the base URL is still shown without credentials or query.
import { existsSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";
import { defaults } from "@vbapi-sdk/client";
import { count, fmt } from "../count.ts";
import {
  failedFileName,
  JOURNAL_FILE,
  type RunConfig,
  readRunConfig,
  SUMMARY_FILE,
} from "../run-dir/config.ts";
import {
  type JournalDamage,
  type RequestWindow,
  readJournalHistory,
  type SessionHistory,
} from "../run-dir/journal.ts";
import type { RunTotals } from "../session/summary.ts";
import { shellQuote } from "../shell-quote.ts";
import { CLI_VERSION } from "../version.ts";
import { type Failures, readFailures } from "./failures.ts";

/** Requests of one second (or one column of the chart). */
export interface Bin {
  requests: number;
  /** Answered 429. */
  rateLimited: number;
  /** No answer: the connection failed, the request timed out or was aborted. */
  noAnswer: number;
}

export interface TimelineSession {
  session: number;
  /** Epoch ms the chart counts this session's seconds from. */
  origin: number;
  /** Seconds from the origin to the last request's second, plus one. */
  seconds: number;
  /** By second since the origin. */
  bins: Map<number, Bin>;
}

export interface Timeline {
  sessions: TimelineSession[];
  /** Why there is no chart (an older journal, no request sent); the chart is drawn otherwise. */
  missing: string | undefined;
  /** Sessions that have no request times (written by an earlier vbapi). */
  untimedSessions: number[];
}

export type NextStep =
  | { kind: "resume"; command: string }
  | { kind: "reload"; command: string; file: string }
  | { kind: "none" };

export interface ReportData {
  generatedAt: string;
  cliVersion: string;
  runDir: string;
  entity: string;
  /** What in the journal could not be read (the report leaves it out), when something could not. */
  journalDamage: string | undefined;
  /** summary.json's status, or "unfinished" when the last session never wrote it. */
  status: string;
  exitCode: number | undefined;
  /** Why the status is what it is, when summary.json does not say it. */
  statusNote: string | undefined;
  error: string | undefined;
  refusedBy: string | undefined;
  input: {
    name: string;
    path: string;
    size: number | undefined;
    sha256: string | undefined;
    format: string;
    gzip: boolean;
    delimiter: string | undefined;
  };
  target: { baseUrl: string; removed: string | undefined; database: string; pathParams: string };
  totals: RunTotals;
  requests: number;
  retries: number;
  rateLimited: number;
  /** The run's rate limit in requests per second; undefined when off. */
  rateLimit: number | undefined;
  createdAt: string;
  finishedAt: string | undefined;
  totalMs: number;
  sessions: SessionHistory[];
  timeline: Timeline;
  failures: Failures;
  failedFile: string;
  next: NextStep;
  /** Rows are held back until then (summary.json's heldBackUntil, ISO 8601; see heldUntilLine). */
  heldBackUntil: string | undefined;
  /** The versions that ran the last session (summary.json). */
  versions: { sdk: string | undefined; cli: string | undefined };
}

type Json = Record<string, unknown>;
const obj = (v: unknown): Json => (v !== null && typeof v === "object" ? (v as Json) : {});
const num = (v: unknown): number => (typeof v === "number" && Number.isFinite(v) ? v : 0);
const optStr = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);

function readSummary(dir: string): Json | undefined {
  try {
    return obj(JSON.parse(readFileSync(join(dir, SUMMARY_FILE), "utf8")));
  } catch {
    return undefined;
  }
}

/** The base URL without user info, query or fragment (a credential has no business there). */
export function displayUrl(value: string): { url: string; removed: string | undefined } {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return { url: "(not a URL)", removed: undefined };
  }
  const removed = [
    url.username || url.password ? "user info" : "",
    url.search ? "query" : "",
    url.hash ? "fragment" : "",
  ].filter(Boolean);
  return {
    url: `${url.origin}${url.pathname === "/" ? "" : url.pathname}`,
    removed: removed.length > 0 ? removed.join(", ") : undefined,
  };
}

/** What `damage` means for the report, in a sentence; undefined when the journal is whole. */
export function damageNote(damage: JournalDamage): string | undefined {
  const parts: string[] = [];
  if (damage.skipped > 0) {
    parts.push(
      `${count(damage.skipped, "line")} skipped (not a journal entry, or impossible numbers: a request's time outside the run, a negative duration, a row number that cannot be)`,
    );
  }
  if (damage.stoppedAt !== undefined) {
    parts.push(
      `line ${fmt(damage.stoppedAt)} is not JSON, and the report reads the journal only up to it`,
    );
  }
  return parts.length > 0 ? `${JOURNAL_FILE} is damaged: ${parts.join("; ")}` : undefined;
}

/** Reads the journal: its sessions, and its request lines in per-second bins by session. */
function readJournal(path: string, window: RequestWindow) {
  const timed = new Map<number, TimelineSession>();
  const history = readJournalHistory(path, window, (session, request) => {
    let s = timed.get(session.session);
    if (s === undefined) {
      // The session's start line precedes its requests: the chart counts from its start.
      const started = session.startedAt ? Date.parse(session.startedAt) : Number.NaN;
      const origin = Number.isFinite(started) && started <= request.at ? started : request.at;
      s = { session: session.session, origin, seconds: 0, bins: new Map() };
      timed.set(session.session, s);
    }
    const second = Math.floor((request.at - s.origin) / 1000);
    let bin = s.bins.get(second);
    if (bin === undefined) {
      bin = { requests: 0, rateLimited: 0, noAnswer: 0 };
      s.bins.set(second, bin);
    }
    bin.requests++;
    if (request.status === 429) bin.rateLimited++;
    if (request.status === 0) bin.noAnswer++;
    s.seconds = Math.max(s.seconds, second + 1);
  });
  const untimedSessions = history.sessions
    .filter((s) => s.requestLines === 0 && s.stats.requests > 0)
    .map((s) => s.session);
  const sessions = [...timed.values()].sort((a, b) => a.session - b.session);
  let missing: string | undefined;
  if (sessions.length === 0) {
    missing =
      untimedSessions.length > 0
        ? "This run's journal does not record when each request settled: it was written by an earlier version of vbapi. The totals come from summary.json."
        : history.damage.skipped > 0 || history.damage.stoppedAt !== undefined
          ? "The journal's request lines are damaged (see above)."
          : "No request was sent.";
  }
  return { history, timeline: { sessions, missing, untimedSessions } };
}

/** Why summary.json does not describe the run's last session, if it does not. */
function staleness(summary: Json | undefined, lastSession: number): string | undefined {
  if (summary === undefined) {
    return "summary.json is missing: the process ended before the run did (a crash, kill -9 or a power cut). The totals are the rows the journal committed.";
  }
  const sessions = num(obj(summary.timings).sessions);
  if (sessions < lastSession) {
    return `summary.json is from session ${sessions}; session ${lastSession} started later and never finished (a crash, kill -9 or a power cut). The totals are the rows the journal committed.`;
  }
  return undefined;
}

function nextStep(
  dir: string,
  config: RunConfig,
  status: string,
  summary: Json | undefined,
  totals: ReportData["totals"],
  failedFile: string,
): NextStep {
  const resumable =
    status === "unfinished" ? config.input.sha256 !== undefined : summary?.resumable === true;
  if (resumable) return { kind: "resume", command: `vbapi resume ${shellQuote(dir)}` };
  if (status === "complete" && totals.failed + totals.invalid > 0) {
    return {
      kind: "reload",
      command: `vbapi upsert ${config.entity} ${shellQuote(failedFile)}`,
      file: failedFile,
    };
  }
  return { kind: "none" };
}

/** Everything the report shows about the run in `dir` (an absolute path). */
export async function loadReportData(dir: string): Promise<ReportData> {
  const config = readRunConfig(dir);
  let summary = readSummary(dir);
  // Requests settle after the run started and before now (or, for a run folder from a machine
  // whose clock ran ahead, before the run said it finished): any other time is damage.
  const finished = Date.parse(optStr(obj(summary?.timings).finishedAt) ?? "");
  const created = Date.parse(config.createdAt);
  const window: RequestWindow = {
    from: Number.isFinite(created) ? created : undefined,
    to: Math.max(Date.now(), Number.isFinite(finished) ? finished : 0),
  };
  const journalPath = join(dir, JOURNAL_FILE);
  const journal = existsSync(journalPath) ? readJournal(journalPath, window) : undefined;
  const history = journal?.history;
  // A loop, not Math.max(...): a journal may hold any number of sessions.
  let lastSession = 0;
  for (const s of history?.sessions ?? []) lastSession = Math.max(lastSession, s.session);
  const statusNote = staleness(summary, lastSession);
  if (statusNote) summary = undefined;
  const sum = (f: (s: SessionHistory) => number) =>
    (history?.sessions ?? []).reduce((n, s) => n + f(s), 0);
  const counts = history?.counts ?? { c: 0, u: 0, f: 0, i: 0 };
  const t = obj(summary?.totals);
  const totals = summary
    ? {
        rows: num(t.rows),
        created: num(t.created),
        updated: num(t.updated),
        failed: num(t.failed),
        invalid: num(t.invalid),
        pending: num(t.pending),
        heldBack: num(t.heldBack),
        resent: num(t.resent),
      }
    : {
        rows: counts.c + counts.u + counts.f + counts.i,
        created: counts.c,
        updated: counts.u,
        failed: counts.f,
        invalid: counts.i,
        pending: 0,
        heldBack: 0,
        resent: 0,
      };
  const status = summary ? (optStr(summary.status) ?? "unknown") : "unfinished";
  const input = { ...config.input, ...obj(summary?.input) } as Json;
  const timings = obj(summary?.timings);
  const failedFile = join(dir, failedFileName(config.input.format));
  const { url, removed } = displayUrl(config.client.baseUrl);
  const rateLimit = config.client.rateLimit;
  return {
    generatedAt: new Date().toISOString(),
    cliVersion: CLI_VERSION,
    runDir: dir,
    entity: config.entity,
    journalDamage: history ? damageNote(history.damage) : undefined,
    status,
    exitCode: summary && typeof summary.exitCode === "number" ? summary.exitCode : undefined,
    statusNote,
    error: optStr(summary?.error),
    refusedBy: optStr(summary?.refusedBy),
    input: {
      name: config.input.path === "-" ? "standard input" : basename(config.input.path),
      path: config.input.path,
      size: typeof input.size === "number" ? input.size : undefined,
      sha256: optStr(input.sha256),
      format: config.input.format,
      gzip: config.input.gzip === true,
      delimiter: config.input.delimiter,
    },
    target: {
      baseUrl: url,
      removed,
      database: config.client.database,
      pathParams: Object.entries(config.pathParams ?? {})
        .map(([k, v]) => `${k} = ${v}`)
        .join(", "),
    },
    totals,
    requests: summary ? num(summary.requests) : sum((s) => s.stats.requests),
    retries: summary ? num(summary.retries) : sum((s) => s.stats.retries),
    rateLimited: summary ? num(summary.rateLimited) : sum((s) => s.stats.rateLimited),
    rateLimit:
      rateLimit === "off" ? undefined : (rateLimit ?? defaults.rateLimit.requestsPerSecond),
    createdAt: config.createdAt,
    finishedAt: optStr(timings.finishedAt),
    totalMs: summary ? num(timings.totalMs) : sum((s) => s.stats.elapsedMs),
    sessions: history?.sessions ?? [],
    timeline: journal?.timeline ?? {
      sessions: [],
      missing: "The run folder has no journal.",
      untimedSessions: [],
    },
    failures: await readFailures(failedFile, config, history?.failedLength),
    failedFile,
    next: nextStep(dir, config, status, summary, totals, failedFile),
    heldBackUntil: isoTime(summary?.heldBackUntil),
    versions: { sdk: optStr(summary?.sdkVersion), cli: optStr(summary?.cliVersion) },
  };
}

/** A time summary.json holds (ISO 8601), written again by this code; else undefined. */
function isoTime(value: unknown): string | undefined {
  const ms = typeof value === "string" ? Date.parse(value) : Number.NaN;
  return Number.isFinite(ms) ? new Date(ms).toISOString() : undefined;
}
