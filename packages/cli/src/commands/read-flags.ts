// The flags for reading a file (upsert and validate): format, delimiter, column mapping, empty
// cells, time zone, and one flag per path parameter of any entity.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { type Command, Option } from "commander";
import { EMPTY_AS, type EmptyAs, OFFSET_PATTERN } from "../convert.ts";
import { INPUT_FORMATS, type InputFormat } from "../input/types.ts";
import { type CliEntity, cliEntities, flagOf } from "../schema.ts";
import { collect, delimiterArg, entityArg, int32, UsageError } from "./args.ts";

export interface ReadFlags {
  format?: InputFormat;
  delimiter?: string;
  map?: string;
  ignoreColumn?: string[];
  ignoreUnknownColumns?: boolean;
  emptyAs?: EmptyAs;
  timezoneOffset?: string;
  [pathParam: string]: unknown;
}

/** Every path parameter of any entity becomes a flag (`--provider-cred-key`). */
const PATH_PARAMS = [...new Set(cliEntities.flatMap((e) => e.pathParams))];

const ownersOf = (param: string) =>
  cliEntities.filter((e) => e.pathParams.includes(param)).map((e) => e.name);

export function readOptions(command: Command): Command {
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
    command.option(
      `${flagOf(param)} <n>`,
      `${param} path parameter (${ownersOf(param).join(", ")})`,
      int32(flagOf(param)),
    );
  }
  return command;
}

/** The entity's path parameters from their flags; a flag of another entity is an error. */
function pathParamsOf(entity: CliEntity, flags: ReadFlags): Record<string, number> | undefined {
  for (const param of PATH_PARAMS) {
    if (flags[param] !== undefined && !entity.pathParams.includes(param)) {
      throw new UsageError(
        `${flagOf(param)} applies to ${ownersOf(param).join(", ")}, not ${entity.name}`,
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

/** The converter's options from the reading flags (reads the --map file). */
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

/** The entity named on the command line, and what the reading flags say for it. */
export function readingOf(entityName: string, flags: ReadFlags) {
  const entity = entityArg(entityName);
  const pathParams = pathParamsOf(entity, flags);
  return { entity, pathParams, convert: convertOptions(flags) };
}

/** The input argument: a path made absolute, or "-" for stdin. */
export function inputPath(file: string): string {
  return file === "-" ? "-" : resolve(file);
}
