// The `vbapi` commands (commander): upsert, validate, entities, template, resume.
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { DEFAULT_BASE_URL, DEFAULT_RATE_LIMIT, type Limiter } from "@vbapi-sdk/client";
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { CREDENTIAL_HELP, type Credentials, credentialsFromEnv } from "./auth.ts";
import {
  ColumnError,
  Converter,
  EMPTY_AS,
  type EmptyAs,
  type Issue,
  OFFSET_PATTERN,
  type Target,
} from "./convert.ts";
import { Display, type DisplayMode } from "./display.ts";
import {
  DELIMITERS,
  hashFile,
  INPUT_FORMATS,
  InputError,
  type InputFormat,
  isInvalidJsonLine,
  isRegularFile,
  openInput,
} from "./read.ts";
import {
  acquireLock,
  CLI_VERSION,
  EXIT,
  rateLimitOption,
  releaseLock,
  runSession,
  type SessionResult,
  shellQuote,
} from "./run.ts";
import { type RunConfig, RunFiles, readRunConfig } from "./run-dir.ts";
import { type CliEntity, cliEntities, findEntity, flagOf } from "./schema.ts";

/** An error the user can fix: printed as is, exit code 2. */
export class UsageError extends Error {
  override name = "UsageError";
}

const ENTITY_NAMES = cliEntities.map((e) => e.name).join(", ");
/** Every path parameter of any entity becomes a flag (`--provider-cred-key`). */
const PATH_PARAMS = [...new Set(cliEntities.flatMap((e) => e.pathParams))];

function positiveInt(flag: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < 1) {
      throw new InvalidArgumentError(`${flag} must be a positive whole number`);
    }
    return n;
  };
}

function int32(flag: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^-?\d+$/.test(value) || n < -(2 ** 31) || n > 2 ** 31 - 1) {
      throw new InvalidArgumentError(`${flag} must be a whole number (int32)`);
    }
    return n;
  };
}

function rateLimitArg(value: string): number | "off" {
  if (value.toLowerCase() === "off") return "off";
  const n = Number(value);
  if (!(n > 0) || !Number.isFinite(n)) {
    throw new InvalidArgumentError("--rate-limit must be a number of requests per second, or off");
  }
  return n;
}

function delimiterArg(value: string): string {
  const d = DELIMITERS[value.toLowerCase()] ?? DELIMITERS[value];
  if (d === undefined)
    throw new InvalidArgumentError(
      '--delimiter must be one of , ; tab | (or "comma", "semicolon", "pipe")',
    );
  return d;
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

function entityArg(name: string): CliEntity {
  const entity = findEntity(name);
  if (!entity) throw new UsageError(`unknown entity "${name}": one of ${ENTITY_NAMES}`);
  return entity;
}

interface ReadFlags {
  format?: InputFormat;
  delimiter?: string;
  map?: string;
  ignoreColumn?: string[];
  ignoreUnknownColumns?: boolean;
  emptyAs?: EmptyAs;
  timezoneOffset?: string;
  [pathParam: string]: unknown;
}

function readOptions(command: Command): Command {
  command
    .addOption(
      new Option(
        "--format <format>",
        "input format (default: from the file name, else detected)",
      ).choices(INPUT_FORMATS),
    )
    .option(
      "--delimiter <char>",
      "CSV delimiter: , ; tab | (default: detected from the header)",
      delimiterArg,
    )
    .option(
      "--map <file>",
      'JSON file renaming columns: { "Column in file": "fieldName", "Unused column": null }',
    )
    .option("--ignore-column <name>", "skip this column (repeatable)", collect)
    .option("--ignore-unknown-columns", "skip every column that is not a field (default: an error)")
    .addOption(
      new Option(
        "--empty-as <rule>",
        "what an empty cell means: auto = null when nullable, absent when optional, an error when required",
      )
        .choices(EMPTY_AS)
        .default("auto"),
    )
    .option(
      "--timezone-offset <offset>",
      "offset for date-times without one and for plain dates: Z or ±HH:MM",
      "Z",
    );
  for (const param of PATH_PARAMS) {
    const owners = cliEntities.filter((e) => e.pathParams.includes(param)).map((e) => e.name);
    command.option(
      `${flagOf(param)} <n>`,
      `${param} path parameter (${owners.join(", ")})`,
      int32(flagOf(param)),
    );
  }
  return command;
}

function pathParamsOf(entity: CliEntity, flags: ReadFlags): Record<string, number> | undefined {
  for (const param of PATH_PARAMS) {
    if (flags[param] !== undefined && !entity.pathParams.includes(param)) {
      throw new UsageError(
        `${flagOf(param)} applies to ${cliEntities
          .filter((e) => e.pathParams.includes(param))
          .map((e) => e.name)
          .join(", ")}, not ${entity.name}`,
      );
    }
  }
  if (entity.pathParams.length === 0) return undefined;
  const params: Record<string, number> = {};
  for (const param of entity.pathParams) {
    const value = flags[param];
    if (value === undefined) throw new UsageError(`${entity.name} needs ${flagOf(param)} <n>`);
    params[param] = value as number;
  }
  return params;
}

function readMap(path: string | undefined): Record<string, string | null> | undefined {
  if (path === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UsageError(`--map ${path}: ${code ? `cannot read it (${code})` : "not valid JSON"}`);
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new UsageError(`--map ${path}: must be a JSON object { "column": "field" }`);
  }
  for (const [column, field] of Object.entries(value)) {
    if (field !== null && typeof field !== "string") {
      throw new UsageError(`--map ${path}: the value for "${column}" must be a field name or null`);
    }
  }
  return value as Record<string, string | null>;
}

function convertOptions(flags: ReadFlags) {
  if (flags.timezoneOffset !== undefined && !OFFSET_PATTERN.test(flags.timezoneOffset)) {
    throw new UsageError("--timezone-offset must be Z or ±HH:MM (e.g. -05:00)");
  }
  return {
    map: readMap(flags.map),
    ignoreColumns: flags.ignoreColumn ?? [],
    ignoreUnknownColumns: flags.ignoreUnknownColumns === true,
    emptyAs: flags.emptyAs ?? "auto",
    timezoneOffset: flags.timezoneOffset ?? "Z",
  };
}

function displayMode(flags: { json?: boolean; quiet?: boolean }): DisplayMode {
  if (flags.json) return "json";
  if (flags.quiet) return "quiet";
  return process.stderr.isTTY ? "bar" : "lines";
}

/** Where the run's rate budget and login token live: this process, or Redis (`--redis`). */
interface Shared {
  credentials: Credentials;
  limiter: Limiter | undefined;
  close(): Promise<void>;
}

async function shared(
  target: { baseUrl: string; database: string; rateLimit: number | "off" | undefined },
  redisFlag: string | undefined,
): Promise<Shared> {
  const redisUrl = redisFlag ?? process.env.VBAPI_REDIS_URL;
  if (redisUrl === undefined || redisUrl === "") {
    const found = credentialsFromEnv(target);
    if ("missing" in found) throw new UsageError(found.missing);
    return { credentials: found, limiter: undefined, close: async () => {} };
  }
  if (!/^rediss?:\/\//.test(redisUrl)) {
    throw new UsageError("--redis / VBAPI_REDIS_URL must be a redis:// or rediss:// URL");
  }
  const { createRedisRateLimiter, createRedisTokenCache } = await import("@vbapi-sdk/redis");
  const cache = createRedisTokenCache({ url: redisUrl });
  const found = credentialsFromEnv({ ...target, cache });
  if ("missing" in found) {
    await cache.close();
    throw new UsageError(found.missing);
  }
  const rate = rateLimitOption(target.rateLimit) ?? DEFAULT_RATE_LIMIT;
  const limiter =
    rate === false
      ? undefined
      : createRedisRateLimiter({
          url: redisUrl,
          apiKey: found.apiKey,
          requestsPerSecond: rate.requestsPerSecond,
          burst: rate.burst,
        });
  return {
    credentials: found,
    limiter,
    close: async () => {
      await Promise.allSettled([limiter?.close(), cache.close()]);
    },
  };
}

function baseUrlOf(flag: string | undefined): string {
  const value = flag ?? process.env.VBAPI_BASE_URL ?? DEFAULT_BASE_URL;
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
  return value.replace(/\/+$/, "");
}

const fmt = (n: number) => n.toLocaleString("en-US");

/** The person-readable end of a run (stderr), or the final --json event. */
function report(display: Display, runDir: string, result: SessionResult): void {
  const s = result.summary as {
    entity: string;
    totals: {
      rows: number;
      created: number;
      updated: number;
      failed: number;
      invalid: number;
      pending: number;
      resent: number;
    };
    requests: number;
    retries: number;
    rateLimited: number;
    timings: { sessionMs: number };
    files: { failed: string; succeeded: string };
    resumeCommand?: string;
    error?: string;
    refusedBy?: string;
    firstFailures: string[];
  };
  const { firstFailures, ...summary } = s;
  display.event("done", { runDir, ...summary });
  if (display.mode === "json") return;
  const t = s.totals;
  const lines = [
    `${s.entity}: ${fmt(t.rows)} rows: ${fmt(t.created + t.updated)} succeeded (${fmt(t.created)} created, ${fmt(t.updated)} updated), ${fmt(t.failed)} failed, ${fmt(t.invalid)} invalid${t.pending > 0 ? `, ${fmt(t.pending)} not done yet` : ""}${t.resent > 0 ? ` (${fmt(t.resent)} resent after the interruption)` : ""}`,
    `  ${(s.timings.sessionMs / 1000).toFixed(1)} s, ${fmt(s.requests)} requests, ${fmt(s.retries)} retries, ${fmt(s.rateLimited)} answered 429`,
  ];
  if (s.error) lines.push(`error: ${s.error}`);
  if (firstFailures.length > 0) {
    lines.push(`first failures (all in ${s.files.failed}):`, ...firstFailures.map((f) => `  ${f}`));
  }
  if (t.failed + t.invalid > 0 && result.status === "complete") {
    lines.push(
      `fix the failed rows and load that file again: vbapi upsert ${s.entity} ${shellQuote(s.files.failed)}`,
    );
  }
  lines.push(`run folder: ${runDir}`);
  if (result.status === "interrupted") lines.push("interrupted.");
  if (result.status === "stopped-auth")
    lines.push(
      `stopped: the server refused the credentials (401/403)${s.refusedBy ? `: ${s.refusedBy}` : ""}. Fix them, then resume.`,
    );
  if (s.resumeCommand) lines.push(`resume with: ${s.resumeCommand}`);
  process.stderr.write(`${lines.join("\n")}\n`);
}

function defaultRunDir(entity: CliEntity): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, "").replace("T", "-").slice(0, 15);
  return resolve("vbapi-runs", `${entity.name}-${stamp}-${randomBytes(2).toString("hex")}`);
}

async function upsert(
  entityName: string,
  file: string,
  flags: ReadFlags & Record<string, unknown>,
): Promise<number> {
  const entity = entityArg(entityName);
  const pathParams = pathParamsOf(entity, flags);
  const convert = convertOptions(flags);
  const database = (flags.database as string | undefined) ?? process.env.VBAPI_DATABASE;
  if (!database)
    throw new UsageError(
      "set --database <name> or VBAPI_DATABASE (the vbasoftware-database header)",
    );
  const baseUrl = baseUrlOf(flags.baseUrl as string | undefined);
  const sharing = await shared(
    { baseUrl, database, rateLimit: flags.rateLimit as number | "off" | undefined },
    flags.redis as string | undefined,
  );
  try {
    const display = new Display(displayMode(flags as { json?: boolean; quiet?: boolean }));
    const path = file === "-" ? "-" : resolve(file);
    // stdin and pipes are read once: hashed while reading, and not resumable.
    const stdin = path === "-" || (existsSync(path) && !isRegularFile(path));
    let size: number | undefined;
    let sha256: string | undefined;
    if (!stdin) {
      try {
        ({ size, sha256 } = await hashFile(path));
      } catch (error) {
        throw new UsageError(
          `cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? "error"}`,
        );
      }
    }
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
      report(display, dir, result);
      return result.exitCode;
    } finally {
      files.close();
      releaseLock(dir);
    }
  } finally {
    await sharing.close();
  }
}

async function resume(runDir: string, flags: Record<string, unknown>): Promise<number> {
  const dir = resolve(runDir);
  let config: RunConfig;
  try {
    config = readRunConfig(dir);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const entity = entityArg(config.entity);
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
  const session: RunConfig = {
    ...config,
    client: {
      ...config.client,
      ...(flags.rateLimit !== undefined ? { rateLimit: flags.rateLimit as number | "off" } : {}),
      ...(flags.concurrency !== undefined ? { concurrency: flags.concurrency as number } : {}),
    },
  };
  const sharing = await shared(
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
    });
    report(display, dir, result);
    return result.exitCode;
  } finally {
    files?.close();
    releaseLock(dir);
    await sharing.close();
  }
}

async function validate(
  entityName: string,
  file: string,
  flags: ReadFlags & { json?: boolean },
): Promise<number> {
  const entity = entityArg(entityName);
  const pathParams = pathParamsOf(entity, flags);
  const converter = new Converter(entity, { ...convertOptions(flags), pathParams });
  const input = await openInput({
    path: file === "-" ? "-" : resolve(file),
    format: flags.format,
    delimiter: flags.delimiter,
  });
  const out = (line: string) => process.stdout.write(`${line}\n`);
  const event = (e: Record<string, unknown>) => out(JSON.stringify(e));
  let rows = 0;
  let invalid = 0;
  let duplicates = 0;
  const keys = new Map<string, number>();
  try {
    const header = input.header ?? [];
    const targets: Target[] = input.format === "csv" ? converter.header(header) : [];
    for await (const r of input.rows) {
      rows++;
      let converted: { record: Record<string, unknown>; issues: Issue[] };
      if (r.cells !== undefined)
        converted = converter.fromCells(header, targets, r.cells, r.badUtf8);
      else if (isInvalidJsonLine(r.value))
        converted = { record: {}, issues: [{ column: "", message: "is not valid JSON" }] };
      else converted = converter.fromObject(r.value, r.badUtf8);
      if (converted.issues.length > 0) {
        invalid++;
        if (flags.json) event({ event: "invalid", row: r.row, issues: converted.issues });
        else
          for (const i of converted.issues)
            out(`row ${r.row}${i.column ? `, column "${i.column}"` : ""}: ${i.message}`);
        continue;
      }
      const key = JSON.stringify(entity.keys.map((k) => converted.record[k]));
      const first = keys.get(key);
      if (first === undefined) keys.set(key, r.row);
      else {
        duplicates++;
        if (flags.json)
          event({ event: "duplicate", row: r.row, firstRow: first, keyFields: entity.keys });
        else
          out(
            `warning: row ${r.row} has the same key (${entity.keys.join(", ")}) as row ${first}: the later one wins`,
          );
      }
    }
  } finally {
    input.close();
  }
  if (flags.json) event({ event: "done", rows, invalid, duplicates, valid: rows - invalid });
  else
    process.stderr.write(
      `${fmt(rows)} rows: ${fmt(rows - invalid)} valid, ${fmt(invalid)} invalid, ${fmt(duplicates)} repeated keys\n`,
    );
  return invalid > 0 ? EXIT.rowsFailed : EXIT.ok;
}

function typeText(f: CliEntity["fields"][number]): string {
  return `${f.type}${f.format ? ` (${f.format})` : ""}${f.nullable ? ", nullable" : ""}`;
}

function entitiesCommand(name: string | undefined, flags: { json?: boolean }): number {
  const list = name ? [entityArg(name)] : cliEntities;
  if (flags.json) {
    const data = list.map((e) => ({
      name: e.name,
      schema: e.entity,
      path: e.path,
      description: e.description,
      keys: e.keys,
      pathParams: e.pathParams.map((p) => ({ name: p, flag: flagOf(p) })),
      fields: e.fields.map(
        ({ name: n, type, format, required, nullable, maxLength, description }) => ({
          name: n,
          type,
          format: format ?? null,
          required,
          nullable,
          maxLength: maxLength ?? null,
          description,
        }),
      ),
    }));
    process.stdout.write(`${JSON.stringify(name ? data[0] : data, null, 2)}\n`);
    return EXIT.ok;
  }
  const width = name ? Number.POSITIVE_INFINITY : 70;
  const cut = (s: string) => (s.length > width ? `${s.slice(0, width - 1)}…` : s);
  const blocks = list.map((e) => {
    const rows = [
      ["field", "type", "required", "max", "description"],
      ...e.fields.map((f) => [
        f.name,
        typeText(f),
        f.required ? "yes" : "",
        f.maxLength === undefined ? "" : String(f.maxLength),
        cut(f.description),
      ]),
    ];
    const widths = [0, 1, 2, 3].map((i) => Math.max(...rows.map((r) => (r[i] as string).length)));
    const table = rows.map((r) =>
      `  ${r.map((c, i) => (i < 4 ? c.padEnd(widths[i] as number) : c)).join("  ")}`.trimEnd(),
    );
    const params = e.pathParams.map((p) => ` ${flagOf(p)} <n>`).join("");
    return [
      `${e.name}${params}   (PUT ${e.path}; key: ${e.keys.join(" + ")})`,
      `  ${cut(e.description)}`,
      ...table,
    ].join("\n");
  });
  process.stdout.write(`${blocks.join("\n\n")}\n`);
  return EXIT.ok;
}

function templateCommand(name: string, flags: { format: string }): number {
  const entity = entityArg(name);
  const example: Record<string, unknown> = {};
  for (const f of entity.fields) {
    const v = entity.example?.[f.name];
    example[f.name] =
      v !== undefined
        ? v
        : f.type === "integer"
          ? 1
          : f.type === "number"
            ? 1.5
            : f.type === "boolean"
              ? false
              : f.format === "date-time"
                ? "2026-01-01T00:00:00Z"
                : "";
  }
  if (flags.format === "json") process.stdout.write(`${JSON.stringify([example], null, 2)}\n`);
  else if (flags.format === "ndjson") process.stdout.write(`${JSON.stringify(example)}\n`);
  else {
    const cell = (v: unknown) => {
      const s = v === null || v === undefined ? "" : String(v);
      return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
    };
    const names = entity.fields.map((f) => f.name);
    process.stdout.write(`${names.join(",")}\n${names.map((n) => cell(example[n])).join(",")}\n`);
  }
  return EXIT.ok;
}

const EXIT_HELP = `Exit codes:
  0    every row succeeded
  1    some rows failed or were invalid (see failed.csv)
  2    usage, input or configuration error (nothing sent, or the input broke off)
  3    stopped: the server refused the credentials (401/403); resumable
  130  interrupted (Ctrl-C, SIGTERM); resumable`;

export function buildProgram(): Command {
  const program = new Command("vbapi")
    .description(
      "Load CSV, NDJSON and JSON files into VBA's batch endpoints, resumable, with every row accounted for.",
    )
    .version(CLI_VERSION)
    .showHelpAfterError("(run with --help for usage)")
    .exitOverride()
    .addHelpText(
      "after",
      `\nEntities: ${ENTITY_NAMES}\n\n${CREDENTIAL_HELP}\n\n${EXIT_HELP}\n\nExamples:\n  vbapi entities\n  vbapi template tolerances > tolerances.csv\n  vbapi validate tolerances tolerances.csv\n  vbapi upsert tolerances tolerances.csv --database MYDB\n  vbapi resume vbapi-runs/tolerances-20260105-083000-1a2b`,
    );

  const upsertCmd = program
    .command("upsert")
    .description("load a file (or - for stdin) into an entity's batch endpoint")
    .argument("<entity>", `one of ${ENTITY_NAMES}`)
    .argument("<file>", "CSV, NDJSON or JSON array, optionally .gz; - reads stdin");
  readOptions(upsertCmd)
    .option("--base-url <url>", `API base URL (env VBAPI_BASE_URL; default ${DEFAULT_BASE_URL})`)
    .option(
      "--database <name>",
      "target database, the vbasoftware-database header (env VBAPI_DATABASE)",
    )
    .option(
      "--chunk-size <n>",
      "records per request (default: the SDK's, 500)",
      positiveInt("--chunk-size"),
    )
    .option(
      "--concurrency <n>",
      "requests in flight (default: the SDK's, 4)",
      positiveInt("--concurrency"),
    )
    .option(
      "--rate-limit <n|off>",
      "requests per second, or off for servers without VBA's limit (default: the SDK's, 25)",
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
      `\n${CREDENTIAL_HELP}\n\nThe run folder gets failed.csv (or failed.ndjson) with every failed row and _row, _status,\n_message, _activityId, _mayHaveBeenApplied (fix it and load it again), succeeded.csv,\nsummary.json and a journal for \`vbapi resume\`.\n\n${EXIT_HELP}\n\nExamples:\n  VBAPI_API_KEY=... VBAPI_TOKEN=... vbapi upsert tolerances tolerances.csv --database MYDB\n  vbapi upsert events events.ndjson.gz --database MYDB --out runs/events-jan\n  vbapi upsert provider-cred-services services.csv --provider-cred-key 5021 --database MYDB\n  vbapi upsert claim-prompt-pays export.csv --map mapping.json --ignore-column Notes\n  gunzip -c big.csv.gz | vbapi upsert events - --database MYDB --json`,
    )
    .action(async (entity: string, file: string, flags: ReadFlags & Record<string, unknown>) => {
      process.exitCode = await upsert(entity, file, flags);
    });

  const validateCmd = program
    .command("validate")
    .description(
      "check a file offline (nothing is sent): every invalid row with its column and reason, and repeated keys",
    )
    .argument("<entity>", `one of ${ENTITY_NAMES}`)
    .argument("<file>", "CSV, NDJSON or JSON array, optionally .gz; - reads stdin");
  readOptions(validateCmd)
    .option("--json", "NDJSON events on stdout (invalid, duplicate, done)")
    .addHelpText(
      "after",
      `\nExit codes: 0 every row is valid, 1 some row is invalid, 2 usage or input error.\n\nExamples:\n  vbapi validate tolerances tolerances.csv\n  vbapi validate events events.json --json`,
    )
    .action(async (entity: string, file: string, flags: ReadFlags & { json?: boolean }) => {
      process.exitCode = await validate(entity, file, flags);
    });

  program
    .command("entities")
    .description(
      "the entities and their fields from the spec: type, required, max length, description",
    )
    .argument("[entity]", "show one entity, descriptions in full")
    .option("--json", "as JSON")
    .addHelpText("after", "\nExamples:\n  vbapi entities\n  vbapi entities events --json")
    .action((entity: string | undefined, flags: { json?: boolean }) => {
      process.exitCode = entitiesCommand(entity, flags);
    });

  program
    .command("template")
    .description("a file to start from: the header row and the spec's example record")
    .argument("<entity>", `one of ${ENTITY_NAMES}`)
    .addOption(
      new Option("--format <format>", "csv, ndjson or json")
        .choices(["csv", "ndjson", "json"])
        .default("csv"),
    )
    .addHelpText(
      "after",
      "\nExamples:\n  vbapi template tolerances > tolerances.csv\n  vbapi template events --format ndjson > events.ndjson",
    )
    .action((entity: string, flags: { format: string }) => {
      process.exitCode = templateCommand(entity, flags);
    });

  program
    .command("resume")
    .description(
      "continue an interrupted run: same file (checked by size and SHA-256), rows already done are skipped",
    )
    .argument("<run-dir>", "the run folder the interrupted run printed")
    .option("--rate-limit <n|off>", "override the run's rate limit", rateLimitArg)
    .option("--concurrency <n>", "override the run's concurrency", positiveInt("--concurrency"))
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
      process.exitCode = await resume(runDir, flags);
    });
  return program;
}

/** Runs the CLI; resolves with the exit code (never throws). */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  const json = argv.includes("--json");
  const fail = (message: string, code: number) => {
    if (json)
      process.stdout.write(`${JSON.stringify({ event: "error", message, exitCode: code })}\n`);
    process.stderr.write(`vbapi: ${message}\n`);
    return code;
  };
  try {
    process.exitCode = undefined;
    await program.parseAsync(argv, { from: "user" });
    return typeof process.exitCode === "number" ? process.exitCode : EXIT.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version exit 0; every other commander error is a usage error.
      return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    if (
      error instanceof UsageError ||
      error instanceof InputError ||
      error instanceof ColumnError
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
