// The names the generated code declares for each batch operation, checked before anything is
// emitted. They come from the spec (the entity, `x-vbapi-plural`, `x-vbapi-type-name`, the path
// parameters), so a spec could make the generated code declare one name twice or shadow a name it
// uses; codegen refuses such a spec, naming the operation, instead of writing code that does not
// compile. The rules:
// - a path parameter's name is not a reserved word, nor a name the one-liners give their own
//   parameters (`client`, `records`, `options`) or call (`upsertAll`);
// - no declared name is one the generated files import, re-export or use (`VbapiClient`,
//   `BatchResult`, `Promise`, ...);
// - no two operations declare the same name: record type, `<Type>Key`, `Upsert<Plural>Options`,
//   `upsert<Plural>`, `upsertAll<Plural>`, and the type of each path parameter (its name in
//   PascalCase). Operations whose path parameters have the same name and the same schema share
//   that parameter's type, declared once per package.
import type { BatchOperation, OperationParameter } from "@vbapi-sdk/tool-spec-model";

/** `providerCredKey` -> `ProviderCredKey`: the name of a path parameter's type. */
export const pascal = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

/** `operation updateBatchEvent (PUT /events-batch)`: how messages name an operation. */
export const operationLabel = (e: BatchOperation) =>
  `operation ${e.operationId} (${e.method.toUpperCase()} ${e.path})`;

/**
 * Names the generated files import from the client, re-export, or use from the language: a
 * declaration of the same name would clash with or shadow them.
 */
export const FIXED_NAMES: ReadonlySet<string> = new Set([
  // The domain entry points' imports and re-exports from @vbapi-sdk/client.
  "BatchItem",
  "BatchResult",
  "batchUpserter",
  "BulkItem",
  "BulkProgress",
  "BulkReport",
  "createVbapiClient",
  "EntityKey",
  "EntityPathParams",
  "EntityRecord",
  "UpsertAllEntityOptions",
  "UpsertBatchOptions",
  "VbapiClient",
  "VbapiClientOptions",
  // The client's bulk.ts imports.
  "BulkClient",
  "BulkInput",
  "bulkUpserter",
  "upsertAll",
  // Globals the generated signatures use.
  "Omit",
  "Promise",
]);

/** The one-liners' own parameters, and what their bodies call: no path parameter may be named so. */
export const PARAMETER_NAMES: ReadonlySet<string> = new Set([
  "client",
  "records",
  "options",
  "upsertAll",
]);

/** Reserved words (strict mode, modules) and the two names a strict-mode parameter cannot take. */
const RESERVED_WORDS: ReadonlySet<string> = new Set(
  (
    "await break case catch class const continue debugger default delete do else enum export " +
    "extends false finally for function if implements import in instanceof interface let new " +
    "null package private protected public return static super switch this throw true try " +
    "typeof var void while with yield arguments eval"
  ).split(" "),
);

/** A JSON value with its object members in a stable order, to compare two schemas. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (typeof value === "object" && value !== null) {
    const entries = Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(",")}}`;
  }
  return JSON.stringify(value) ?? "undefined";
}

interface Declared {
  op: BatchOperation;
  /** What the name is, as in "the record type". */
  role: string;
  param: OperationParameter | undefined;
}

/** Throws, naming the operation, when the generated code's names would not compile. */
export function checkNames(operations: readonly BatchOperation[]): void {
  const declared = new Map<string, Declared>();
  for (const op of operations) {
    const at = `codegen: ${operationLabel(op)}`;
    for (const { name } of op.pathParams) {
      if (RESERVED_WORDS.has(name))
        throw new Error(
          `${at}: path parameter "${name}" is a reserved word, which cannot name the generated functions' parameter; rename it in the path and its parameter`,
        );
      if (PARAMETER_NAMES.has(name))
        throw new Error(
          `${at}: path parameter "${name}" has a name the generated functions use themselves (${[...PARAMETER_NAMES].join(", ")}); rename it in the path and its parameter`,
        );
    }
    const names: [string, string, OperationParameter | undefined][] = [
      [op.typeName, "record type", undefined],
      [`${op.typeName}Key`, "key type", undefined],
      [`Upsert${op.plural}Options`, "options type", undefined],
      [`upsert${op.plural}`, "upsert function", undefined],
      [`upsertAll${op.plural}`, "bulk one-liner", undefined],
      ...op.pathParams.map((p): [string, string, OperationParameter] => [
        pascal(p.name),
        `type of path parameter ${p.name}`,
        p,
      ]),
    ];
    for (const [name, role, param] of names) {
      const subject = param ? `the ${role}` : `its ${role}`;
      const hint =
        "; set x-vbapi-type-name or x-vbapi-plural on the entity schema, or rename the path parameter (openapi/README.md, Conventions)";
      if (FIXED_NAMES.has(name))
        throw new Error(
          `${at}: ${subject} would be named ${name}, which the generated code already declares or uses${hint}`,
        );
      const prior = declared.get(name);
      if (prior === undefined) {
        declared.set(name, { op, role, param });
        continue;
      }
      const shared =
        param !== undefined &&
        prior.param !== undefined &&
        prior.param.name === param.name &&
        prior.op !== op;
      if (shared && canonical(prior.param?.object.schema) === canonical(param.object.schema))
        continue;
      throw new Error(
        `${at}: ${subject} would be named ${name}, as the ${prior.role} of ${operationLabel(prior.op)}${shared ? ", which has another schema; give the parameters one schema, or different names" : hint}`,
      );
    }
  }
}
