// A record's key: the values of its entity's `x-vbapi-key` fields, and one string identity for
// it, used both to match a 207 answer's entries to records and to keep records with the same key
// out of the same request.

/** The key field values of a record, in `keyFields` order (undefined where unreadable). */
export function keyOf<K = Record<string, unknown>>(
  record: unknown,
  keyFields: readonly string[],
): K {
  const key: Record<string, unknown> = {};
  const r = (typeof record === "object" && record !== null ? record : {}) as Record<
    string,
    unknown
  >;
  for (const field of keyFields) {
    try {
      key[field] = r[field];
    } catch {
      // A getter that throws: the key is unknown (the record fails elsewhere).
      key[field] = undefined;
    }
  }
  return key as K;
}

/** One key value's part of an identity: 5 and "5" (and " 5 ") are the same key. */
export function keyPart(value: unknown): string {
  if (typeof value === "number") return String(value);
  if (typeof value === "string") return value.trim();
  return JSON.stringify(value ?? null) ?? "null";
}

/**
 * The identity of a key tuple, as the values appear in `keyFields` order: one value's
 * {@link keyPart}, or each value's part followed by a NUL. Public as `keyIdentity`.
 */
export function keyIdOfValues(values: readonly unknown[]): string {
  if (values.length === 1) return keyPart(values[0]);
  let id = "";
  for (const value of values) id += `${keyPart(value)}\u0000`;
  return id;
}

/** The identity of a record's key (see {@link keyIdOfValues}). */
export function keyIdOf(key: Record<string, unknown>, keyFields: readonly string[]): string {
  if (keyFields.length === 1) return keyPart(key[keyFields[0] as string]);
  let id = "";
  for (const field of keyFields) id += `${keyPart(key[field])}\u0000`;
  return id;
}
