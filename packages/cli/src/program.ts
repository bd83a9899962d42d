// The `vbapi` program (commander): its commands, each in src/commands/, and `main`, which runs
// it and turns every error into a message and an exit code.

import { ConfigurationError } from "@vbapi-sdk/client";
import { Command, CommanderError, Option } from "commander";
import { CREDENTIAL_HELP } from "./auth.ts";
import { ENTITY_NAMES, UsageError } from "./commands/args.ts";
import { addDoctorCommand } from "./commands/doctor.ts";
import { addEntitiesCommand } from "./commands/entities.ts";
import { addReportCommand } from "./commands/report.ts";
import { addResumeCommand } from "./commands/resume.ts";
import { addTemplateCommand } from "./commands/template.ts";
import { addUpsertCommand } from "./commands/upsert.ts";
import { addValidateCommand } from "./commands/validate.ts";
import { ColumnError } from "./convert.ts";
import { EXIT, EXIT_HELP } from "./exit.ts";
import { InputError } from "./input/types.ts";
import { type CliIo, exitCodeSet, io, outputsSettled, useIo } from "./io.ts";
import { endLogFormat, log, logFormatOf, useLogFormat } from "./log-format.ts";
import { newRun } from "./net/reach.ts";
import { LockError } from "./run-dir/lock.ts";
import { safeJson } from "./safe-text.ts";
import { endTelemetry } from "./telemetry/run.ts";
import { CLI_VERSION } from "./version.ts";

export function buildProgram(): Command {
  const program = new Command("vbapi")
    .description(
      "Load CSV, NDJSON and JSON files into VBA's batch endpoints, resumable, with every row accounted for.",
    )
    .version(CLI_VERSION)
    .showHelpAfterError("(run with --help for usage)")
    .exitOverride()
    // Help, version and usage errors go where the run writes (main may be given streams).
    .configureOutput({
      writeOut: (text) => io().stdout.write(text),
      writeErr: (text) => io().stderr.write(text),
      getOutHelpWidth: () => widthOf(io().stdout),
      getErrHelpWidth: () => widthOf(io().stderr),
    })
    .addOption(
      new Option(
        "--log-format <format>",
        "log lines (warnings, retries, errors) on stderr as text, or one JSON object per line (time, level, message, runDir, traceId; no progress display)",
      )
        .choices(["text", "json"])
        .default("text"),
    )
    .configureHelp({ showGlobalOptions: true })
    .addHelpText(
      "after",
      `\nEntities: ${ENTITY_NAMES}\n\n${CREDENTIAL_HELP}\n\n${EXIT_HELP}\n\nExamples:\n  vbapi entities\n  vbapi template tolerances > tolerances.csv\n  vbapi validate tolerances tolerances.csv\n  vbapi upsert tolerances tolerances.csv --database MYDB\n  vbapi resume vbapi-runs/tolerances-20260105-083000-1a2b`,
    );
  addUpsertCommand(program);
  addValidateCommand(program);
  addEntitiesCommand(program);
  addTemplateCommand(program);
  addResumeCommand(program);
  addReportCommand(program);
  addDoctorCommand(program);
  return program;
}

// Commander's own default: the terminal's width, none (its 80) when not a terminal.
const widthOf = (stream: CliIo["stdout"]) =>
  (stream.isTTY ? (stream as { columns?: number }).columns : undefined) as number;

/** One flag for every copy of this module in the process (the ESM and CommonJS builds). */
const RUNNING = Symbol.for("@vbapi-sdk/cli: a run of main is under way");
const flags = globalThis as { [RUNNING]?: boolean };

/**
 * Runs the CLI; resolves with the exit code, never rejects. Before it resolves, the run's
 * telemetry is exported (bounded: see telemetry/run.ts), whatever the exit code.
 *
 * `io` replaces the process's environment and streams for this run (each part optional; see
 * {@link CliIo}). Runs go one at a time in a process (they share the log format, the signal
 * handlers and the telemetry): a call while another is under way writes why to its stderr and
 * resolves with the usage code (2) without running. An output given that fails (its write
 * throws, or it emits `error`) ends the run with 2 at most, said on the other output.
 */
export function main(argv: string[], given: Partial<CliIo> = {}): Promise<number> {
  return run(argv, given, false);
}

/** The bin's `main`: the process is the run's (with `--log-format json`, so is its stderr). */
export function binMain(argv: string[]): Promise<number> {
  return run(argv, {}, true);
}

async function run(argv: string[], given: Partial<CliIo>, bin: boolean): Promise<number> {
  if (given.signal !== undefined && !(given.signal instanceof AbortSignal)) {
    try {
      (given.stderr ?? process.stderr).write("vbapi: main(): io.signal must be an AbortSignal\n");
    } catch {} // it is told by the code
    return EXIT.usage;
  }
  if (flags[RUNNING]) {
    try {
      (given.stderr ?? process.stderr).write(
        "vbapi: another run of main() is under way in this process: runs go one at a time\n",
      );
    } catch {} // it is told by the code
    return EXIT.usage;
  }
  flags[RUNNING] = true;
  let undoIo = (): void => {};
  try {
    undoIo = useIo(given);
    newRun();
    const json = argv.includes("--json");
    let code: number;
    try {
      useLogFormat(logFormatOf(argv), bin);
      if (given.signal?.aborted) {
        const message = "the run was aborted before it started: nothing was read or sent";
        code = fail(message, EXIT.interrupted, json);
      } else code = await runProgram(argv);
    } catch {
      // runProgram turns every error into a code: only an output that throws gets here.
      code = EXIT.usage;
    }
    try {
      await endTelemetry();
    } catch {}
    const failure = await outputsSettled();
    if (failure !== undefined) {
      // Said in the run's formats, on the output that still works (a failed one takes nothing).
      const message = `${failure}: what the run wrote there may be incomplete`;
      // A failed stdout takes no event.
      fail(message, EXIT.usage, json && !failure.startsWith("stdout"));
      if (code === EXIT.ok) code = EXIT.usage;
    }
    return code;
  } catch {
    return EXIT.usage;
  } finally {
    try {
      endLogFormat();
    } catch {} // an output that throws: the run said so above
    try {
      undoIo();
    } finally {
      flags[RUNNING] = false;
    }
  }
}

/**
 * A run's error: a line on stderr in the log format, and with `json` an `error` event on stdout.
 * Messages may name columns and files from the input: shown, never acted on by the terminal.
 */
function fail(message: string, code: number, json: boolean): number {
  if (json) io().stdout.write(`${safeJson({ event: "error", message, exitCode: code })}\n`);
  log("error", message, { prefix: "vbapi: " });
  return code;
}

async function runProgram(argv: string[]): Promise<number> {
  const program = buildProgram();
  const json = argv.includes("--json");
  try {
    await program.parseAsync(argv, { from: "user" });
    return exitCodeSet() ?? EXIT.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version exit 0; every other commander error is a usage error.
      return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    if (
      error instanceof UsageError ||
      // A bad option or credential variable, checked by the SDK (names it, never its value).
      error instanceof ConfigurationError ||
      error instanceof InputError ||
      error instanceof ColumnError ||
      // Another process works on the run folder: its own message says which and what to do.
      error instanceof LockError
    ) {
      return fail(error.message, EXIT.usage, json);
    }
    const e = error as NodeJS.ErrnoException;
    return fail(
      `unexpected error: ${e.code ?? e.name ?? "error"}${e.message ? `: ${e.message}` : ""}`,
      EXIT.usage,
      json,
    );
  }
}
