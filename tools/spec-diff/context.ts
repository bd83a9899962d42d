// What every comparison shares: the change record, the context it is collected in, and the
// comparisons of keywords that only document (descriptions, examples) or that no rule handles.
import type { Obj } from "./refs.ts";

export type Severity = "breaking" | "non-breaking" | "docs";
export interface Change {
  severity: Severity;
  /** Where, e.g. "PUT /tolerances-batch › request › tolerance1". */
  location: string;
  /** What, e.g. "type narrowed from number|null to number". */
  message: string;
  /** The rule that fired, e.g. "type" or "operation-removed", for tests and filtering. */
  rule: string;
}

/** Which way data flows through a schema: sent by clients (request) or read by them (response). */
export type Direction = "request" | "response";
export interface DiffContext {
  /** The last released document. */
  beforeDoc: Obj;
  /** The document being checked. */
  afterDoc: Obj;
  changes: Change[];
}
export interface SchemaContext extends DiffContext {
  direction: Direction;
  /** The location of the schema's root, e.g. "PUT /tolerances-batch › request". */
  where: string;
  /** "beforeRef|afterRef" pairs being compared, to stop on recursive schemas. */
  inProgress: Set<string>;
}

/** A fresh schema comparison rooted at `where`. */
export const schemaContext = (
  ctx: DiffContext,
  direction: Direction,
  where: string,
): SchemaContext => ({ ...ctx, direction, where, inProgress: new Set() });

export const DOC_KEYS = new Set([
  "description",
  "summary",
  "title",
  "example",
  "examples",
  "externalDocs",
  "$comment",
]);
/** Schema keywords that change no generated type and no validation. */
const IGNORED_SCHEMA_KEYS = new Set([
  "xml",
  "discriminator",
  "$schema",
  "$id",
  "$anchor",
  "$defs",
  "contentEncoding",
]);

export const json = (value: unknown) => JSON.stringify(value);
export const same = (before: unknown, after: unknown) => json(before) === json(after);
export const list = (values: unknown[]) =>
  values.map((value) => (typeof value === "string" ? value : json(value))).join(", ");

export function emit(
  ctx: DiffContext,
  severity: Severity,
  location: string,
  message: string,
  rule: string,
): void {
  ctx.changes.push({ severity, location, message, rule });
}

/** Docs-only keywords (description, examples…) and x- extensions. */
export function compareDocs(
  ctx: DiffContext,
  before: Obj,
  after: Obj,
  where: string,
  keys: Iterable<string> = DOC_KEYS,
): void {
  for (const key of keys) {
    if (same(before[key], after[key])) continue;
    const what =
      before[key] === undefined ? "added" : after[key] === undefined ? "removed" : "changed";
    emit(ctx, "docs", where, `${key} ${what}`, "docs");
  }
}

export const extensionKeys = (before: Obj, after: Obj) =>
  [...new Set([...Object.keys(before), ...Object.keys(after)])].filter((k) => k.startsWith("x-"));

/** Reports keys outside `handled` whose values differ (extensions as non-breaking). */
export function catchAll(
  ctx: DiffContext,
  before: Obj,
  after: Obj,
  where: string,
  handled: Set<string>,
  severity: Severity,
): void {
  for (const key of new Set([...Object.keys(before), ...Object.keys(after)])) {
    if (handled.has(key) || DOC_KEYS.has(key) || same(before[key], after[key])) continue;
    const known = key.startsWith("x-") || IGNORED_SCHEMA_KEYS.has(key);
    const reported = known ? "non-breaking" : severity;
    const note =
      reported === "breaking"
        ? " (not classified by spec-diff: treated as breaking, review it)"
        : "";
    emit(
      ctx,
      reported,
      where,
      `${key} changed from ${json(before[key]) ?? "none"} to ${json(after[key]) ?? "none"}${note}`,
      "other",
    );
  }
}
