// Compares two bundled OpenAPI 3.1 documents and classifies every difference as breaking,
// non-breaking or docs. This file walks the document (operations, components, top-level keys);
// operations.ts pairs and compares the operations; schema-rules.ts holds the schema rule table.
import { isObject } from "@vbapi-sdk/tool-spec-model";
import {
  type Change,
  catchAll,
  compareDocs,
  type DiffContext,
  emit,
  type Severity,
  same,
  schemaContext,
} from "./context.ts";
import { compareOperations } from "./operations.ts";
import { deref, type Obj, reachableSchemas } from "./refs.ts";
import { compareSchema } from "./schema-rules.ts";

export type { Change, Severity } from "./context.ts";

function componentsOf(doc: Obj, kind: string): Obj {
  const components = isObject(doc.components) ? doc.components : {};
  return isObject(components[kind]) ? components[kind] : {};
}

function compareSchemaComponents(ctx: DiffContext): void {
  const schemasBefore = componentsOf(ctx.beforeDoc, "schemas");
  const schemasAfter = componentsOf(ctx.afterDoc, "schemas");
  const reached = reachableSchemas(ctx.beforeDoc);
  for (const name of Object.keys(schemasBefore)) {
    const where = `components › schemas › ${name}`;
    if (!(name in schemasAfter)) emit(ctx, "breaking", where, "schema removed", "schema-removed");
    // Schemas used by operations are compared there, with the operation in the location. The
    // others (exported as types by the generated client) are compared as a reader would.
    else if (!reached.has(name)) {
      compareSchema(schemaContext(ctx, "response", where), schemasBefore[name], schemasAfter[name]);
    }
  }
  for (const name of Object.keys(schemasAfter)) {
    if (!(name in schemasBefore))
      emit(ctx, "non-breaking", `components › schemas › ${name}`, "schema added", "schema-added");
  }
}

function compareSecuritySchemes(ctx: DiffContext): void {
  const schemesBefore = componentsOf(ctx.beforeDoc, "securitySchemes");
  const schemesAfter = componentsOf(ctx.afterDoc, "securitySchemes");
  for (const name of Object.keys(schemesBefore)) {
    const where = `components › securitySchemes › ${name}`;
    if (!(name in schemesAfter)) {
      emit(ctx, "breaking", where, "security scheme removed", "security-scheme");
      continue;
    }
    const schemeBefore = deref(ctx.beforeDoc, schemesBefore[name]).node;
    const schemeAfter = deref(ctx.afterDoc, schemesAfter[name]).node;
    const withoutDescription = ({ description: _, ...rest }: Obj) => rest;
    if (!same(withoutDescription(schemeBefore), withoutDescription(schemeAfter)))
      emit(ctx, "breaking", where, "security scheme changed", "security-scheme");
    compareDocs(ctx, schemeBefore, schemeAfter, where, ["description"]);
  }
  for (const name of Object.keys(schemesAfter)) {
    if (name in schemesBefore) continue;
    const where = `components › securitySchemes › ${name}`;
    emit(ctx, "non-breaking", where, "security scheme added", "security-scheme");
  }
}

const DOCUMENT_KEYS = new Set([
  "info",
  "tags",
  "externalDocs",
  "servers",
  "openapi",
  "paths",
  "components",
  "security",
]);

function compareDocument(ctx: DiffContext): void {
  const [before, after] = [ctx.beforeDoc, ctx.afterDoc];
  const infoBefore = isObject(before.info) ? before.info : {};
  const infoAfter = isObject(after.info) ? after.info : {};
  const infoKeys = new Set([...Object.keys(infoBefore), ...Object.keys(infoAfter)]);
  compareDocs(ctx, infoBefore, infoAfter, "info", infoKeys);
  compareDocs(ctx, before, after, "document", ["tags", "externalDocs"]);
  if (!same(before.servers, after.servers))
    emit(ctx, "non-breaking", "document", "servers changed", "servers");
  if (!same(before.openapi, after.openapi)) {
    const message = `openapi version changed from ${before.openapi} to ${after.openapi}`;
    emit(ctx, "non-breaking", "document", message, "openapi");
  }
  catchAll(ctx, before, after, "document", DOCUMENT_KEYS, "non-breaking");
}

/** Every difference between two bundled documents, breaking ones first, deduplicated. */
export function diffSpecs(before: unknown, after: unknown): Change[] {
  if (!isObject(before) || !isObject(after)) throw new Error("both specs must be JSON objects");
  const ctx: DiffContext = { beforeDoc: before, afterDoc: after, changes: [] };
  compareOperations(ctx);
  compareSchemaComponents(ctx);
  compareSecuritySchemes(ctx);
  compareDocument(ctx);
  const seen = new Set<string>();
  const order: Severity[] = ["breaking", "non-breaking", "docs"];
  return ctx.changes
    .filter((change) => {
      const key = `${change.severity}\0${change.location}\0${change.message}`;
      return !seen.has(key) && seen.add(key);
    })
    .sort((x, y) => order.indexOf(x.severity) - order.indexOf(y.severity));
}
