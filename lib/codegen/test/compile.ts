// Typechecks generated code in memory, with the TypeScript compiler: the client's generated files
// (schema, entities, validators, bulk) and domain entry points, against small stand-ins for the
// client's hand-written modules they import. A stand-in only has to declare what the generated
// code uses; the real client is typechecked with generated code by the sixth-endpoint test
// (tools/one-source).
import ts from "typescript";

const CLIENT = "/virtual/client/src";

/** What the generated files import from the client's hand-written modules. */
const STANDINS: Record<string, string> = {
  "base/types.ts": `
export interface BulkReport<K> { items: { key: K | undefined }[] }
`,
  "bulk/source.ts": `
export type BulkInput<T> = Iterable<T> | AsyncIterable<T>;
`,
  "bulk/upsert-all.ts": `
import type { BulkReport } from "../base/types.ts";
import type { EntityKey, EntityName, EntityPathParams, EntityRecord } from "../generated/entities.ts";
import type { VbapiClient } from "../index.ts";
import type { BulkInput } from "./source.ts";
export type BulkClient = Pick<VbapiClient, "upsertBatch">;
export type UpsertAllOptions<E extends EntityName> = { concurrency?: number; pathParams?: EntityPathParams<E> };
export declare function upsertAll<E extends EntityName>(
  client: BulkClient, entity: E, records: BulkInput<EntityRecord<E>>, options?: UpsertAllOptions<E>,
): Promise<BulkReport<EntityKey<E>>>;
`,
  "bulk/one-liner.ts": `
import type { BulkReport } from "../base/types.ts";
import type { EntityKey, EntityName, EntityRecord, EntityWithPathParams } from "../generated/entities.ts";
import type { BulkInput } from "./source.ts";
import type { BulkClient, UpsertAllOptions } from "./upsert-all.ts";
export type UpsertAllEntityOptions<E extends EntityName = EntityName> = Omit<UpsertAllOptions<E>, "pathParams">;
export type BulkUpserter<E extends Exclude<EntityName, EntityWithPathParams>> = (
  client: BulkClient, records: BulkInput<EntityRecord<E>>, options?: UpsertAllEntityOptions<E>,
) => Promise<BulkReport<EntityKey<E>>>;
export declare function bulkUpserter<E extends Exclude<EntityName, EntityWithPathParams>>(entity: E): BulkUpserter<E>;
`,
  "index.ts": `
import type { EntityKey, EntityName, EntityPathParams, EntityRecord } from "./generated/entities.ts";
export * from "./generated/entities.ts";
export * from "./generated/bulk.ts";
export type { BulkReport } from "./base/types.ts";
export type { UpsertAllEntityOptions } from "./bulk/one-liner.ts";
export interface BatchItem<K> { key: K | undefined }
export interface BatchResult<K> { items: BatchItem<K>[] }
export type UpsertBatchOptions<E extends EntityName> = { timeoutMs?: number; pathParams?: EntityPathParams<E> };
export interface VbapiClient {
  upsertBatch<E extends EntityName>(entity: E, records: readonly EntityRecord<E>[], options?: UpsertBatchOptions<E>): Promise<BatchResult<EntityKey<E>>>;
}
export interface VbapiClientOptions { apiKey: string }
export declare function createVbapiClient(options: VbapiClientOptions): VbapiClient;
export declare function batchUpserter<E extends EntityName>(entity: E): (
  client: VbapiClient, records: readonly EntityRecord<E>[], options?: UpsertBatchOptions<E>,
) => Promise<BatchResult<EntityKey<E>>>;
export interface BulkItem { index: number }
export interface BulkProgress { done: number }
`,
};

/**
 * The compiler's messages for the client's generated files and the domain entry points
 * (package name -> index.ts), as `file(line,col): TSnnnn message`; empty when all compile.
 */
export function typecheck(
  client: ReadonlyMap<string, string>,
  domains: ReadonlyMap<string, string> = new Map(),
): string[] {
  const files = new Map<string, string>();
  for (const [name, text] of Object.entries(STANDINS)) files.set(`${CLIENT}/${name}`, text);
  for (const [name, text] of client) files.set(`${CLIENT}/generated/${name}`, text);
  for (const [name, text] of domains) files.set(`/virtual/${name}/src/generated/index.ts`, text);
  const options: ts.CompilerOptions = {
    target: ts.ScriptTarget.ES2022,
    lib: ["lib.es2023.d.ts"],
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    strict: true,
    noUncheckedIndexedAccess: true,
    isolatedModules: true,
    verbatimModuleSyntax: true,
    allowImportingTsExtensions: true,
    noEmit: true,
    skipLibCheck: true,
    types: [],
    paths: { "@vbapi-sdk/client": [`${CLIENT}/index.ts`] },
  };
  const host = ts.createCompilerHost(options);
  const { fileExists, readFile, getSourceFile } = host;
  const virtual = (f: string) => f.startsWith("/virtual/");
  host.fileExists = (f) => (virtual(f) ? files.has(f) : fileExists.call(host, f));
  host.directoryExists = (d) =>
    virtual(`${d}/`)
      ? [...files.keys()].some((f) => f.startsWith(`${d}/`))
      : ts.sys.directoryExists(d);
  host.realpath = (f) => (virtual(f) ? f : (ts.sys.realpath?.(f) ?? f));
  host.readFile = (f) => files.get(f) ?? readFile.call(host, f);
  host.getSourceFile = (f, language, ...rest) => {
    const text = files.get(f);
    return text === undefined
      ? getSourceFile.call(host, f, language, ...rest)
      : ts.createSourceFile(f, text, language, true);
  };
  const program = ts.createProgram([...files.keys()], options, host);
  return ts.getPreEmitDiagnostics(program).map((d) => {
    const message = ts.flattenDiagnosticMessageText(d.messageText, "\n");
    if (!d.file || d.start === undefined) return `TS${d.code} ${message}`;
    const { line, character } = d.file.getLineAndCharacterOfPosition(d.start);
    return `${d.file.fileName}(${line + 1},${character + 1}): TS${d.code} ${message}`;
  });
}
