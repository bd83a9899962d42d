// JSON values as JSON.parse returns them, and the one object guard every tool uses.

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

/** A plain JSON object (not null, not an array). */
export function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The value as an array, or an empty one when it is not an array. */
export function asArray(value: unknown): Json[] {
  return Array.isArray(value) ? value : [];
}

/** Thrown for a document the tools cannot read: a bad or cyclic `$ref`, a malformed batch operation. */
export class SpecError extends Error {
  override name = "SpecError";
}
