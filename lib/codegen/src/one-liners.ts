// Emits the per-entity code: the client's typed bulk one-liners (`upsertAll<Plural>`) and each
// domain package's entry point (types, `upsert<Plural>`, the bulk one-liners re-exported), with
// doc comments made from the spec's summaries and descriptions.
// The names are checked first (names.ts): each is an identifier, declared once.
import type { BatchOperation, OperationParameter } from "@vbapi-sdk/tool-spec-model";
import { pascal } from "./names.ts";

const q = (s: string) => JSON.stringify(s);

/** Text from the spec, made safe inside a block comment: one line, no `*\/` to end it. */
const commentText = (text: string) => text.replace(/\s+/g, " ").trim().replace(/\*\//g, "* /");

/** Text from the spec as a doc comment: one paragraph, nothing that could end the comment. */
function doc(lines: readonly (string | undefined)[], indent = ""): string {
  const text = lines
    .filter((l): l is string => typeof l === "string" && l.trim() !== "")
    .map(commentText)
    .join(" ");
  const words = text.split(" ");
  const out: string[] = [];
  let line = "";
  for (const word of words) {
    if (line && line.length + word.length + 1 > 96) {
      out.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) out.push(line);
  return [`${indent}/**`, ...out.map((l) => `${indent} * ${l}`), `${indent} */`].join("\n");
}

const operationName = (e: BatchOperation) => `${e.method.toUpperCase()} ${e.path}`;

/** The positional path parameters of a one-liner: `providerCredKey: EntityPathParams<...>[...]`. */
function pathArgs(e: BatchOperation, typeOf: (param: string) => string): string[] {
  return e.pathParams.map((p) => `${p.name}: ${typeOf(p.name)}`);
}

const pathObject = (e: BatchOperation) => `{ ${e.pathParams.map((p) => p.name).join(", ")} }`;

/** `src/generated/bulk.ts` of the client: one `upsertAll<Plural>` per entity. */
export function emitBulk(entities: readonly BatchOperation[], header: string): string {
  const parts = entities.map((e) => {
    const comment = doc([
      `Bulk upsert of ${e.entity} records (\`${operationName(e)}\`): any number, chunked, rate-limited and accounted for record by record.`,
      e.description,
      e.pathParams.length > 0
        ? `The path parameters come first; a record whose ${Object.values(e.recordFieldForPathParam).join(", ")} disagrees with them is reported failed.`
        : undefined,
      "See {@link upsertAll}.",
    ]);
    if (e.pathParams.length === 0) {
      // Typed in full (not inferred from bulkUpserter's return): the build then makes this file's
      // declarations without a type checker (isolated declarations, lib/build).
      return `${comment}\nexport const upsertAll${e.plural}: BulkUpserter<${q(e.entity)}> = /* @__PURE__ */ bulkUpserter(${q(e.entity)});`;
    }
    const E = q(e.entity);
    const args = pathArgs(e, (p) => `EntityPathParams<${E}>[${q(p)}]`);
    return [
      comment,
      `export function upsertAll${e.plural}(`,
      "  client: BulkClient,",
      ...args.map((a) => `  ${a},`),
      `  records: BulkInput<EntityRecord<${E}>>,`,
      `  options?: UpsertAllEntityOptions<${E}>,`,
      `): Promise<BulkReport<EntityKey<${E}>>> {`,
      `  return upsertAll(client, ${E}, records, { ...options, pathParams: ${pathObject(e)} });`,
      "}",
    ].join("\n");
  });
  const scoped = entities.some((e) => e.pathParams.length > 0);
  return [
    header,
    ...(scoped
      ? [
          `import type { BulkInput } from "../bulk/source.ts";`,
          `import { type BulkClient, upsertAll } from "../bulk/upsert-all.ts";`,
          `import type { BulkReport } from "../base/types.ts";`,
          `import type { EntityKey, EntityPathParams, EntityRecord } from "./entities.ts";`,
        ]
      : []),
    `import { type BulkUpserter, bulkUpserter${scoped ? ", type UpsertAllEntityOptions" : ""} } from "../bulk/one-liner.ts";`,
    "",
    parts.join("\n\n"),
    "",
  ].join("\n");
}

/** The type of path parameter `p`, documented with the operations that take it. */
function pathParamType(
  e: BatchOperation,
  p: OperationParameter,
  users: readonly BatchOperation[],
): string {
  return [
    doc([
      p.object.description === undefined ? undefined : String(p.object.description),
      `(path parameter ${p.name} of ${users.map(operationName).join(", ")})`,
    ]),
    `export type ${pascal(p.name)} = EntityPathParams<${q(e.entity)}>[${q(p.name)}];`,
  ].join("\n");
}

/** `src/index.ts` of a domain package: everything of the entities whose operations name it. */
export function emitDomain(
  name: string,
  entities: readonly BatchOperation[],
  header: string,
  description: string | undefined,
): string {
  const scoped = entities.some((e) => e.pathParams.length > 0);
  const unscoped = entities.some((e) => e.pathParams.length === 0);
  const clientTypes = [
    "type BatchResult",
    ...(unscoped ? ["batchUpserter"] : []),
    "type EntityKey",
    ...(scoped ? ["type EntityPathParams"] : []),
    "type EntityRecord",
    "type UpsertBatchOptions",
    "type VbapiClient",
  ];
  // A path parameter's type is declared once, where it is first used; operations whose path
  // parameters share its name (and schema: names.ts) use it too.
  const users = new Map<string, BatchOperation[]>();
  for (const e of entities) {
    for (const p of e.pathParams) users.set(p.name, [...(users.get(p.name) ?? []), e]);
  }
  const declared = new Set<string>();
  const body = entities.map((e) => {
    const E = q(e.entity);
    const T = e.typeName;
    const lines = [
      doc([
        e.schema.title === e.entity ? undefined : String(e.schema.title ?? ""),
        String(e.schema.description ?? ""),
      ]),
      `export type ${T} = EntityRecord<${E}>;`,
      `/** The key fields of a ${T}: ${commentText(e.keys.join(", "))}. */`,
      `export type ${T}Key = EntityKey<${E}>;`,
    ];
    for (const p of e.pathParams) {
      if (declared.has(p.name)) continue;
      declared.add(p.name);
      lines.push(pathParamType(e, p, users.get(p.name) ?? [e]));
    }
    const fn = `upsert${e.plural}`;
    const comment = doc([
      `${operationName(e)}: ${e.summary ?? "create or update in one request"}.`,
      e.description,
      "One result item per record, in input order.",
    ]);
    if (e.pathParams.length === 0) {
      lines.push(
        `export type Upsert${e.plural}Options = UpsertBatchOptions<${E}>;`,
        comment,
        `export const ${fn}: (`,
        "  client: VbapiClient,",
        `  records: readonly ${T}[],`,
        `  options?: Upsert${e.plural}Options,`,
        `) => Promise<BatchResult<${T}Key>> = /* @__PURE__ */ batchUpserter(${E});`,
      );
    } else {
      const args = pathArgs(e, (p) => pascal(p));
      lines.push(
        `export type Upsert${e.plural}Options = Omit<UpsertBatchOptions<${E}>, "pathParams">;`,
        comment,
        `export function ${fn}(`,
        "  client: VbapiClient,",
        ...args.map((a) => `  ${a},`),
        `  records: readonly ${T}[],`,
        `  options: Upsert${e.plural}Options = {},`,
        `): Promise<BatchResult<${T}Key>> {`,
        `  return client.upsertBatch(${E}, records, { ...options, pathParams: ${pathObject(e)} });`,
        "}",
      );
    }
    return lines.join("\n");
  });
  return [
    header,
    `// @vbapi-sdk/${name}${description ? `: ${description.replace(/\s+/g, " ").trim()}` : ""}`,
    unscoped
      ? `import {\n${clientTypes.map((t) => `  ${t},`).join("\n")}\n} from "@vbapi-sdk/client";`
      : `import type {\n${clientTypes.map((t) => `  ${t.replace(/^type /, "")},`).join("\n")}\n} from "@vbapi-sdk/client";`,
    "",
    "export {",
    "  type BatchItem,",
    "  type BatchResult,",
    "  createVbapiClient,",
    "  type VbapiClient,",
    "  type VbapiClientOptions,",
    `} from "@vbapi-sdk/client";`,
    "",
    body.join("\n\n"),
    "",
    "// Bulk upserts: any number of records (array, iterable or async iterable), chunked,",
    "// rate-limited and accounted for record by record. See @vbapi-sdk/client's upsertAll.",
    "export {",
    "  type BulkItem,",
    "  type BulkProgress,",
    "  type BulkReport,",
    "  type UpsertAllEntityOptions,",
    ...entities.map((e) => `  upsertAll${e.plural},`),
    `} from "@vbapi-sdk/client";`,
    "",
  ].join("\n");
}
