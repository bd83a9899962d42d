// `vbapi upsert <entity> <file|->`: load a file into an entity's batch endpoint, in a new run
// folder.
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { resolve } from "node:path";
import { defaults } from "@vbapi-sdk/client";
import type { Command } from "commander";
import { CREDENTIAL_HELP } from "../auth.ts";
import { Converter } from "../convert.ts";
import { Display } from "../display.ts";
import { EXIT_HELP } from "../exit.ts";
import { openInput } from "../input/open.ts";
import { hashFile, isRegularFile } from "../input/streams.ts";
import { io, setExitCode } from "../io.ts";
import { checkProxyEnv } from "../net/proxy.ts";
import type { RunConfig } from "../run-dir/config.ts";
import { acquireLock, releaseLock } from "../run-dir/lock.ts";
import { RunFiles } from "../run-dir/run-files.ts";
import type { CliEntity } from "../schema.ts";
import { runSession } from "../session/session.ts";
import { traced } from "../telemetry/run.ts";
import { displayMode, ENTITY_NAMES, positiveInt, rateLimitArg, UsageError } from "./args.ts";
import { inputPath, type ReadFlags, readingOf, readOptions } from "./read-flags.ts";
import { report } from "./report.ts";
import { openSharing } from "./sharing.ts";

type UpsertFlags = ReadFlags & Record<string, unknown>;

/** The API base URL: `flag`, else VBAPI_BASE_URL, else VBA's; a UsageError when unusable. */
export function baseUrlOf(flag: string | undefined): string {
  const value = flag ?? io().env.VBAPI_BASE_URL ?? defaults.baseUrl;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError("--base-url / VBAPI_BASE_URL is not a URL");
  }
  if (url.protocol !== "https:" && url.protocol !== "http:")
    throw new UsageError("--base-url must be http(s)");
  if (url.username || url.password) {
    throw new UsageError(
      "--base-url must not carry credentials: set VBAPI_API_KEY and VBAPI_TOKEN",
    );
  }
  // As the SDK refuses it (a query may hold a secret: never echoed, never saved in run.json).
  if (url.search || url.hash) {
    throw new UsageError("--base-url / VBAPI_BASE_URL must not have a query or fragment");
  }
  // fetch refuses the Fetch standard's "bad ports" (1, 25, 6000...) before any connection.
  if (url.port !== "" && badPorts().has(url.port)) {
    throw new UsageError(
      `--base-url / VBAPI_BASE_URL ${url.origin}: fetch refuses port ${url.port} (a "bad port" in the Fetch standard); use the port VBA listens on`,
    );
  }
  return value.replace(/\/+$/, "");
}

/** The ports fetch refuses, as undici (Node's fetch) lists them (read when a URL has a port). */
const badPorts = (): ReadonlySet<string> =>
  (
    createRequire(import.meta.url)("undici/lib/web/fetch/constants.js") as {
      badPortsSet: ReadonlySet<string>;
    }
  ).badPortsSet;

function defaultRunDir(entity: CliEntity): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, "").replace("T", "-").slice(0, 15);
  return resolve("vbapi-runs", `${entity.name}-${stamp}-${randomBytes(2).toString("hex")}`);
}

/** Size and SHA-256 of a regular file (for resume); nothing for stdin and pipes. */
async function fingerprint(
  file: string,
  path: string,
  stdin: boolean,
): Promise<{ size?: number; sha256?: string }> {
  if (stdin) return {};
  try {
    return await hashFile(path);
  } catch (error) {
    throw new UsageError(
      `cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? "error"}`,
    );
  }
}

export async function upsert(
  entityName: string,
  file: string,
  flags: UpsertFlags,
): Promise<number> {
  const { entity, pathParams, convert } = readingOf(entityName, flags);
  const database = (flags.database as string | undefined) ?? io().env.VBAPI_DATABASE;
  if (!database)
    throw new UsageError(
      "set --database <name> or VBAPI_DATABASE (the vbasoftware-database header)",
    );
  const baseUrl = baseUrlOf(flags.baseUrl as string | undefined);
  checkProxyEnv(); // a proxy variable that is no URL: exit 2 before the run folder is made
  const sharing = await openSharing(
    { baseUrl, database, rateLimit: flags.rateLimit as number | "off" | undefined },
    flags.redis as string | undefined,
  );
  try {
    const display = new Display(displayMode(flags as { json?: boolean; quiet?: boolean }));
    const path = inputPath(file);
    // stdin and pipes are read once: hashed while reading, and not resumable.
    const stdin = path === "-" || (existsSync(path) && !isRegularFile(path));
    const { size, sha256 } = await fingerprint(file, path, stdin);
    const converter = new Converter(entity, { ...convert, pathParams });
    const input = await openInput({
      path,
      format: flags.format,
      delimiter: flags.delimiter,
      hashWhileReading: stdin,
    });
    try {
      if (input.format === "csv") converter.header(input.header ?? []);
    } catch (error) {
      input.close();
      throw error;
    }
    const config: RunConfig = {
      version: 1,
      command: "upsert",
      createdAt: new Date().toISOString(),
      cells: 2,
      entity: entity.name,
      input: {
        path,
        size,
        sha256,
        format: input.format,
        gzip: input.gzip,
        delimiter: input.delimiter,
        header: input.header,
      },
      convert,
      pathParams,
      client: {
        baseUrl,
        database,
        chunkSize: flags.chunkSize as number | undefined,
        concurrency: flags.concurrency as number | undefined,
        rateLimit: flags.rateLimit as number | "off" | undefined,
      },
    };
    const dir = flags.out ? resolve(flags.out as string) : defaultRunDir(entity);
    let files: RunFiles;
    try {
      files = RunFiles.create(dir, config, entity.keys);
    } catch (error) {
      input.close();
      throw new UsageError((error as Error).message);
    }
    acquireLock(dir);
    try {
      const result = await runSession({
        files,
        config,
        entity,
        journal: undefined,
        display,
        credentials: sharing.credentials,
        limiter: sharing.limiter,
        input,
      });
      await report(display, dir, result);
      return result.exitCode;
    } finally {
      files.close();
      releaseLock(dir);
    }
  } finally {
    await sharing.close();
  }
}

export function addUpsertCommand(program: Command): void {
  const command = program
    .command("upsert")
    .description("load a file (or - for stdin) into an entity's batch endpoint")
    .argument("<entity>", `one of ${ENTITY_NAMES}`)
    .argument("<file>", "CSV, NDJSON or JSON array, optionally .gz; - reads stdin");
  readOptions(command)
    .option("--base-url <url>", `API base URL (env VBAPI_BASE_URL; default ${defaults.baseUrl})`)
    .option(
      "--database <name>",
      "target database, the vbasoftware-database header (env VBAPI_DATABASE)",
    )
    .option(
      "--chunk-size <n>",
      `records per request (default: the SDK's, ${defaults.bulk.chunkSize})`,
      positiveInt("--chunk-size"),
    )
    .option(
      "--concurrency <n>",
      // The SDK does not export its cap (MAX_AUTO_CONCURRENCY); test/defaults.test.ts checks it.
      "requests in flight (default: the SDK's, adaptive: the rate limit × the round trip, at most 48)",
      positiveInt("--concurrency"),
    )
    .option(
      "--rate-limit <n|off>",
      `requests per second, or off for servers without VBA's limit (default: the SDK's, ${defaults.rateLimit.requestsPerSecond})`,
      rateLimitArg,
    )
    .option(
      "--redis <url>",
      "share the API key's rate budget and login token with other processes through Redis (env VBAPI_REDIS_URL, better for a URL with a password)",
    )
    .option("--out <dir>", "run folder (default: a new folder under ./vbapi-runs/)")
    .option(
      "--json",
      "NDJSON events on stdout (start, progress, done) instead of the progress display",
    )
    .option("--quiet", "no progress display")
    .addHelpText(
      "after",
      `\n${CREDENTIAL_HELP}\n\nThe run folder gets failed.csv (or failed.ndjson) with every failed row and _row, _status,\n_message, _activityId, _mayHaveBeenApplied (fix it and load it again), succeeded.csv,\nsummary.json, report.html (the run as a page) and a journal for \`vbapi resume\`.\n\n${EXIT_HELP}\n\nExamples:\n  VBAPI_API_KEY=... VBAPI_TOKEN=... vbapi upsert tolerances tolerances.csv --database MYDB\n  vbapi upsert events events.ndjson.gz --database MYDB --out runs/events-jan\n  vbapi upsert provider-cred-services services.csv --provider-cred-key 5021 --database MYDB\n  vbapi upsert claim-prompt-pays export.csv --map mapping.json --ignore-column Notes\n  gunzip -c big.csv.gz | vbapi upsert events - --database MYDB --json`,
    )
    .action(async (entity: string, file: string, flags: UpsertFlags) => {
      setExitCode(await traced("upsert", entity, () => upsert(entity, file, flags)));
    });
}
