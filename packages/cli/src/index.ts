/**
 * @vbapi-sdk/cli: the `vbapi` command (see the README). The module exports what other tools may
 * reuse: the command itself, the file reader and converter, and the CLI's token cache.
 *
 * @packageDocumentation
 */
export { buildProgram, main, UsageError } from "./commands.ts";
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
export {
  detectDelimiter,
  formatFromName,
  InputError,
  type InputFormat,
  type InputRow,
  type OpenedInput,
  type OpenInputOptions,
  openInput,
} from "./read.ts";
export { CLI_VERSION, EXIT } from "./run.ts";
export { type CliEntity, cliEntities, cliNameOf, type FieldMeta, findEntity } from "./schema.ts";
export { type CachedToken, defaultCacheDir, FileTokenCache } from "./token-cache.ts";
