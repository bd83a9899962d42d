// `vbapi resume <run-dir>`: continue an interrupted run on the same file (checked by size and
// SHA-256); rows already done are skipped, rows that were in flight are sent again.
import { join, resolve } from "node:path";
import type { Command } from "commander";
import { CREDENTIAL_HELP } from "../auth.ts";
import { count } from "../count.ts";
import { Display } from "../display.ts";
import { EXIT_HELP } from "../exit.ts";
import { hashFile } from "../input/streams.ts";
import { setExitCode } from "../io.ts";
import { checkProxyEnv } from "../net/proxy.ts";
import { JOURNAL_FILE, type RunConfig, readRunConfig, writeRunConfig } from "../run-dir/config.ts";
import { replayJournal } from "../run-dir/journal.ts";
import { acquireLock, releaseLock } from "../run-dir/lock.ts";
import { RunFiles } from "../run-dir/run-files.ts";
import { runSession } from "../session/session.ts";
import { traced } from "../telemetry/run.ts";
import { displayMode, entityArg, positiveInt, rateLimitArg, UsageError } from "./args.ts";
import { report } from "./report.ts";
import { openSharing } from "./sharing.ts";
import { baseUrlOf } from "./upsert.ts";

/** Throws unless the run's input can be read again and is the file the run started with. */
async function checkSameInput(config: RunConfig): Promise<void> {
  if (config.input.path === "-" || config.input.sha256 === undefined) {
    throw new UsageError(
      "this run read standard input or a pipe, which cannot be read again: load the rows that are not in succeeded.csv or failed.csv from a file",
    );
  }
  let found: { size: number; sha256: string };
  try {
    found = await hashFile(config.input.path);
  } catch (error) {
    throw new UsageError(
      `cannot read the run's input ${config.input.path}: ${(error as NodeJS.ErrnoException).code ?? "error"}`,
    );
  }
  if (found.size !== config.input.size || found.sha256 !== config.input.sha256) {
    throw new UsageError(
      `${config.input.path} is not the file this run started with (size or SHA-256 differ): resume needs the same file`,
    );
  }
}

/**
 * `--base-url` is for a run that never reached VBA (a mistyped host): once a server answered
 * rows of the run, the rest would go to another one while the run's files named only one.
 */
function refuseMovedRun(dir: string, config: RunConfig): void {
  let answered = 0;
  try {
    const { c, u, f } = replayJournal(join(dir, JOURNAL_FILE)).counts;
    answered = c + u + f;
  } catch {
    return; // a journal that cannot be replayed: reopening says why
  }
  if (answered > 0) {
    throw new UsageError(
      `--base-url: ${config.client.baseUrl} already answered ${count(answered, "row")} of this run; the rest would go to another server, and the run's files name one. Resume without --base-url, or load the rest in a new run (vbapi upsert)`,
    );
  }
}

export async function resume(runDir: string, flags: Record<string, unknown>): Promise<number> {
  const dir = resolve(runDir);
  let config: RunConfig;
  try {
    config = readRunConfig(dir);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const entity = entityArg(config.entity);
  await checkSameInput(config);
  const session: RunConfig = {
    ...config,
    client: {
      ...config.client,
      ...(flags.rateLimit !== undefined ? { rateLimit: flags.rateLimit as number | "off" } : {}),
      ...(flags.concurrency !== undefined ? { concurrency: flags.concurrency as number } : {}),
      // A run that could not reach a mistyped host is resumed against the right one.
      ...(flags.baseUrl !== undefined ? { baseUrl: baseUrlOf(flags.baseUrl as string) } : {}),
    },
  };
  checkProxyEnv();
  const sharing = await openSharing(
    {
      baseUrl: session.client.baseUrl,
      database: session.client.database,
      rateLimit: session.client.rateLimit,
    },
    flags.redis as string | undefined,
  );
  acquireLock(dir);
  let files: RunFiles | undefined;
  try {
    if (session.client.baseUrl !== config.client.baseUrl) refuseMovedRun(dir, config);
    let state: ReturnType<typeof RunFiles.reopen>["state"];
    try {
      ({ files, state } = RunFiles.reopen(dir, entity.keys));
    } catch (error) {
      throw new UsageError(`cannot resume ${dir}: ${(error as Error).message}`);
    }
    const display = new Display(displayMode(flags));
    const result = await runSession({
      files,
      config: session,
      entity,
      journal: state,
      display,
      credentials: sharing.credentials,
      limiter: sharing.limiter,
      // Once a server answers at the new base URL, it is the run's: a later resume sends there
      // too, and the report names it (the other overrides are this session's). run.json is read
      // again here, under the lock, and written whole.
      ...(session.client.baseUrl !== config.client.baseUrl && {
        onFirstAnswer: () => {
          try {
            const current = readRunConfig(dir);
            const client = { ...current.client, baseUrl: session.client.baseUrl };
            writeRunConfig(dir, { ...current, client });
          } catch (error) {
            const why = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
            throw new Error(
              `the new base URL was not saved in run.json (${why}): pass --base-url again next time`,
            );
          }
        },
      }),
    });
    await report(display, dir, result);
    return result.exitCode;
  } finally {
    files?.close();
    releaseLock(dir);
    await sharing.close();
  }
}

export function addResumeCommand(program: Command): void {
  program
    .command("resume")
    .description(
      "continue an interrupted run: same file (checked by size and SHA-256), rows already done are skipped",
    )
    .argument("<run-dir>", "the run folder the interrupted run printed")
    .option("--rate-limit <n|off>", "override the run's rate limit", rateLimitArg)
    .option("--concurrency <n>", "override the run's concurrency", positiveInt("--concurrency"))
    .option(
      "--base-url <url>",
      "replace the run's API base URL once a server answers there, for this and later resumes (after a run stopped because it could not reach a mistyped one)",
    )
    .option(
      "--redis <url>",
      "share the rate budget and login token through Redis (env VBAPI_REDIS_URL)",
    )
    .option("--json", "NDJSON events on stdout (start, progress, done)")
    .option("--quiet", "no progress display")
    .addHelpText(
      "after",
      `\n${CREDENTIAL_HELP}\n\nRows whose request was in flight at the interruption are sent again (the endpoints upsert by\nkey) and marked so (succeeded.csv column resent, failed.csv _message).\n\n${EXIT_HELP}\n\nExample:\n  vbapi resume vbapi-runs/tolerances-20260105-083000-1a2b`,
    )
    .action(async (runDir: string, flags: Record<string, unknown>) => {
      setExitCode(await traced("resume", undefined, () => resume(runDir, flags)));
    });
}
