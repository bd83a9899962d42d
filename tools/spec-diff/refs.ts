// Internal $ref handling for bundled OpenAPI 3.1 documents ("#/components/…" pointers only).

export type Obj = Record<string, unknown>;

export const isObj = (x: unknown): x is Obj =>
  typeof x === "object" && x !== null && !Array.isArray(x);

/** The value at a local JSON pointer ("#/components/schemas/Tolerance"), or undefined. */
export function resolvePointer(doc: unknown, ref: string): unknown {
  if (!ref.startsWith("#"))
    throw new Error(`external $ref ${ref} is not supported: bundle the spec first`);
  let node: unknown = doc;
  for (const raw of ref.slice(1).split("/").slice(1)) {
    const key = decodeURIComponent(raw).replace(/~1/g, "/").replace(/~0/g, "~");
    if (Array.isArray(node)) node = node[Number(key)];
    else if (isObj(node)) node = node[key];
    else return undefined;
  }
  return node;
}

/**
 * Follows a chain of $refs. Keywords next to a $ref (allowed in 3.1, e.g. a description) win over
 * the target's. Boolean schemas become objects: true → {}, false → { not: {} }.
 * `refs` lists the pointers followed, for cycle detection.
 */
export function deref(doc: unknown, node: unknown): { node: Obj; refs: string[] } {
  const refs: string[] = [];
  let siblings: Obj = {};
  let current: unknown = node;
  while (isObj(current) && typeof current.$ref === "string") {
    const ref = current.$ref;
    if (refs.includes(ref)) throw new Error(`$ref cycle without a schema: ${refs.join(" → ")}`);
    refs.push(ref);
    const { $ref: _, ...rest } = current;
    siblings = { ...rest, ...siblings };
    current = resolvePointer(doc, ref);
    if (current === undefined) throw new Error(`unresolved $ref ${ref}`);
  }
  if (current === true || current === undefined) current = {};
  if (current === false) current = { not: {} };
  if (!isObj(current)) throw new Error(`expected an object, got ${JSON.stringify(current)}`);
  return { node: { ...current, ...siblings }, refs };
}

/** Names of the component schemas reachable from `paths` (directly or through other components). */
export function reachableSchemas(doc: Obj): Set<string> {
  const seen = new Set<string>();
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) for (const v of node) walk(v);
    else if (isObj(node)) {
      if (typeof node.$ref === "string" && node.$ref.startsWith("#") && !seen.has(node.$ref)) {
        seen.add(node.$ref);
        walk(resolvePointer(doc, node.$ref));
      }
      for (const v of Object.values(node)) walk(v);
    }
  };
  walk(doc.paths);
  const prefix = "#/components/schemas/";
  return new Set(
    [...seen]
      .filter((r) => r.startsWith(prefix))
      .map((r) =>
        decodeURIComponent(r.slice(prefix.length)).replace(/~1/g, "/").replace(/~0/g, "~"),
      ),
  );
}
