// How a session ended: its status, the run's totals over every session so far, the exit code,
// and summary.json (what the end-of-run report and --json's done event show).
import { join } from "node:path";
import { SDK_VERSION } from "@vbapi-sdk/client";
import { EXIT } from "../exit.ts";
import { InputError, type OpenedInput } from "../input/types.ts";
import { failedFileName, type RunConfig, SUCCEEDED_FILE } from "../run-dir/config.ts";
import type { JournalState, SessionStats } from "../run-dir/journal.ts";
import type { CliEntity } from "../schema.ts";
import { shellQuote } from "../shell-quote.ts";
import { runTraceId } from "../telemetry/run.ts";
import { CLI_VERSION } from "../version.ts";
import type { Tally } from "./accounting.ts";

export type RunStatus =
  | "complete"
  | "interrupted"
  | "stopped-auth"
  | "unreachable"
  | "input-error"
  | "error";

/** What stopped the session early, if anything. */
export interface Ending {
  /** Writing the run folder failed, or a callback threw: the run is in an unknown state. */
  problem: unknown;
  /** Ctrl-C / SIGTERM. */
  stopRequested: boolean;
  /** The input broke off (the rows before it were sent). */
  inputError: unknown;
  /** VBA could not be reached (before its first answer, or after the retries): why, in words. */
  unreachable?: string | undefined;
}

export interface SummaryContext {
  config: RunConfig;
  entity: CliEntity;
  input: OpenedInput;
  journal: JournalState | undefined;
  tally: Tally;
  runDir: string;
  session: number;
  startedAt: Date;
  /**
   * Rows were held back behind rows a killed session may still have on their way, until this
   * time (epoch ms): resume after it sends them.
   */
  heldUntil?: number | undefined;
}

function statusOf(ending: Ending, tally: Tally): RunStatus {
  if (ending.problem !== undefined) return "error";
  if (ending.unreachable !== undefined) return "unreachable";
  if (ending.stopRequested) return "interrupted";
  if (tally.authStopped) return "stopped-auth";
  if (ending.inputError !== undefined) return "input-error";
  return "complete";
}

/** The run's totals, as summary.json (and the report reading it) carries them. */
export interface RunTotals {
  rows: number;
  created: number;
  updated: number;
  failed: number;
  invalid: number;
  pending: number;
  /** Of `pending`, the rows held back behind an earlier row with the same key (see HELD_BACK). */
  heldBack: number;
  resent: number;
}

/** The run's totals: the journal's earlier sessions plus this one. */
function totalsOf(journal: JournalState | undefined, tally: Tally): RunTotals {
  const before = journal?.counts ?? { c: 0, u: 0, f: 0, i: 0 };
  const c = tally.counters;
  return {
    rows:
      before.c +
      before.u +
      before.f +
      before.i +
      c.succeeded +
      c.failed +
      c.invalid +
      tally.pending,
    created: before.c + tally.created,
    updated: before.u + tally.updated,
    failed: before.f + c.failed,
    invalid: before.i + c.invalid,
    pending: tally.pending,
    heldBack: tally.heldBack,
    resent: tally.resent,
  };
}

function exitCodeOf(status: RunStatus, totals: ReturnType<typeof totalsOf>): number {
  if (status === "error" || status === "input-error" || status === "unreachable") {
    return EXIT.usage;
  }
  if (status === "interrupted") return EXIT.interrupted;
  if (status === "stopped-auth") return EXIT.auth;
  return totals.failed + totals.invalid > 0 || totals.pending > 0 ? EXIT.rowsFailed : EXIT.ok;
}

function errorMessageOf(ending: Ending): string | undefined {
  const { problem, inputError, unreachable } = ending;
  if (unreachable !== undefined) return unreachable;
  if (problem !== undefined)
    return `writing the run folder failed: ${(problem as NodeJS.ErrnoException).code ?? (problem as Error).message}`;
  if (inputError !== undefined)
    return inputError instanceof InputError
      ? inputError.message
      : `reading the input failed: ${(inputError as Error).message}`;
  return undefined;
}

/** The session's status, exit code and summary.json. */
export function summarize(
  context: SummaryContext,
  ending: Ending,
): { status: RunStatus; exitCode: number; summary: Record<string, unknown> } {
  const { config, entity, input, journal, tally, startedAt } = context;
  const started = startedAt.getTime();
  const status = statusOf(ending, tally);
  const totals = totalsOf(journal, tally);
  const exitCode = exitCodeOf(status, totals);
  const resumable =
    status !== "input-error" &&
    (tally.pending > 0 || status !== "complete") &&
    config.input.sha256 !== undefined;
  const resumeCommand = resumable ? `vbapi resume ${shellQuote(context.runDir)}` : undefined;
  const earlier = [...(journal?.sessions ?? new Map<number, SessionStats>()).entries()].filter(
    ([n]) => n !== context.session,
  );
  const sum = (f: (s: SessionStats) => number) => earlier.reduce((n, [, s]) => n + f(s), 0);
  // Every session's resent rows: a resume of a finished run resends nothing, and the count stays.
  totals.resent += sum((s) => s.resent);
  // resume keeps the run folder's URL: only --base-url changes it (VBAPI_BASE_URL does not).
  const errorMessage =
    status === "unreachable" && resumeCommand
      ? `${errorMessageOf(ending)}; ${resumeCommand} keeps this run's URL (VBAPI_BASE_URL does not change it: add --base-url URL if it was wrong)`
      : errorMessageOf(ending);
  const traceId = runTraceId(); // only when the run's traces are exported
  const summary = {
    status,
    exitCode,
    ...(errorMessage ? { error: errorMessage } : {}),
    ...(tally.authMessage ? { refusedBy: tally.authMessage } : {}),
    resumable,
    ...(resumeCommand ? { resumeCommand } : {}),
    ...(context.heldUntil !== undefined
      ? { heldBackUntil: new Date(context.heldUntil).toISOString() }
      : {}),
    entity: entity.name,
    schema: entity.entity,
    input: {
      path: config.input.path,
      size: config.input.size ?? input.size ?? null,
      sha256: config.input.sha256 ?? input.digest() ?? null,
      format: config.input.format,
      gzip: config.input.gzip,
      ...(config.input.delimiter ? { delimiter: config.input.delimiter } : {}),
    },
    target: {
      baseUrl: config.client.baseUrl,
      database: config.client.database,
      ...(config.pathParams ? { pathParams: config.pathParams } : {}),
    },
    totals,
    requests: sum((s) => s.requests) + tally.counters.requests,
    retries: sum((s) => s.retries) + tally.counters.retries,
    rateLimited: sum((s) => s.rateLimited) + tally.rateLimited,
    timings: {
      createdAt: config.createdAt,
      sessionStartedAt: startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      sessionMs: Date.now() - started,
      totalMs: sum((s) => s.elapsedMs) + (Date.now() - started),
      sessions: context.session,
    },
    files: {
      failed: join(context.runDir, failedFileName(config.input.format)),
      succeeded: join(context.runDir, SUCCEEDED_FILE),
    },
    sdkVersion: SDK_VERSION,
    cliVersion: CLI_VERSION,
    ...(traceId ? { traceId } : {}),
    peakRssBytes: process.resourceUsage().maxRSS * 1024,
  };
  return { status, exitCode, summary };
}
