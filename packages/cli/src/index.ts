/**
 * @vbapi-sdk/cli: the `vbapi` command (see the README). The module exports what other tools may
 * reuse: the command itself, the file reader and converter, and the CLI's token cache.
 *
 * @packageDocumentation
 */

export { UsageError } from "./commands/args.ts";
export {
  ColumnError,
  Converter,
  type ConvertOptions,
  convertCell,
  EMPTY_AS,
  type EmptyAs,
  type Issue,
  RESULT_COLUMNS,
} from "./convert.ts";
export { EXIT } from "./exit.ts";
export { detectDelimiter, formatFromName } from "./input/detect.ts";
export { openInput } from "./input/open.ts";
export {
  InputError,
  type InputFormat,
  type InputRow,
  type OpenedInput,
  type OpenInputOptions,
} from "./input/types.ts";
export { buildProgram, main } from "./program.ts";
export { type CliEntity, cliEntities, cliNameOf, type FieldMeta, findEntity } from "./schema.ts";
export { type CachedToken, defaultCacheDir, FileTokenCache } from "./token-cache.ts";
export { CLI_VERSION } from "./version.ts";
