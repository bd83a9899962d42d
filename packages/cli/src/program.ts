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
import { type CliIo, exitCodeSet, io, useIo } from "./io.ts";
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
  if (flags[RUNNING]) {
    try {
      (given.stderr ?? process.stderr).write(
        "vbapi: another run of main() is under way in this process: runs go one at a time\n",
      );
    } catch {} // it is told by the code
    return EXIT.usage;
  }
  flags[RUNNING] = true;
  const undoIo = useIo(given);
  const outputs = watchOutputs(given);
  newRun();
  try {
    let code: number;
    try {
      useLogFormat(logFormatOf(argv), bin);
      code = await runProgram(argv);
    } catch {
      // runProgram turns every error into a code: only an output that throws gets here.
      code = EXIT.usage;
    } finally {
      await endTelemetry().catch(() => {});
      try {
        endLogFormat();
      } catch {} // the output failed: said below
    }
    await outputs.settled();
    return outputs.verdict(code);
  } finally {
    outputs.stop();
    undoIo();
    flags[RUNNING] = false;
  }
}

const OUTPUT_GRACE_MS = 1000;

/**
 * Watches the streams `main` was given for the run: an `error` (EPIPE from a closed reader)
 * would otherwise be uncaught in the host. What the run wrote may then be incomplete: the run
 * ends with 2 at most, and the other output says so (the run folder has the results).
 */
function watchOutputs(given: Partial<CliIo>) {
  let failure: string | undefined;
  const watched = (["stdout", "stderr"] as const).flatMap((name) => {
    const stream = given[name];
    if (stream === undefined || typeof stream.on !== "function") return [];
    const onError = (error: unknown) => {
      failure ??= `${name} failed (${(error as { code?: unknown })?.code ?? "error"})`;
    };
    stream.on("error", onError);
    return [{ name, stream, onError }];
  });
  return {
    /** Waits (1 s at most: a reader may be stalled) for what the run wrote to be taken or fail. */
    async settled(): Promise<void> {
      let timer: NodeJS.Timeout | undefined;
      const bound = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, OUTPUT_GRACE_MS);
      });
      const flushed = watched.map(
        ({ stream }) =>
          new Promise<void>((resolve) => {
            try {
              stream.write("", () => resolve());
            } catch {
              resolve();
            }
          }),
      );
      await Promise.race([Promise.all(flushed), bound]);
      clearTimeout(timer);
    },
    verdict(code: number): number {
      if (failure === undefined) return code;
      const other = failure.startsWith("stdout") ? io().stderr : io().stdout;
      try {
        other.write(`vbapi: ${failure}: what the run wrote there may be incomplete\n`);
      } catch {}
      return code === EXIT.ok ? EXIT.usage : code;
    },
    stop() {
      // Errors after the run are the host's again (a listener that stays would hide them).
      for (const { stream, onError } of watched) stream.removeListener("error", onError);
    },
  };
}

async function runProgram(argv: string[]): Promise<number> {
  const program = buildProgram();
  const json = argv.includes("--json");
  const fail = (message: string, code: number) => {
    // Messages may name columns and files from the input: shown, never acted on by the terminal.
    if (json) io().stdout.write(`${safeJson({ event: "error", message, exitCode: code })}\n`);
    log("error", message, { prefix: "vbapi: " });
    return code;
  };
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
      return fail(error.message, EXIT.usage);
    }
    const e = error as NodeJS.ErrnoException;
    return fail(
      `unexpected error: ${e.code ?? e.name ?? "error"}${e.message ? `: ${e.message}` : ""}`,
      EXIT.usage,
    );
  }
}
