// How spec-diff reads schemas: references resolved by @vbapi-sdk/tool-spec-model, with the two
// rules a comparison needs on top. Keywords next to a $ref (allowed in 3.1, e.g. a description)
// win over the target's, and boolean schemas become objects: true → {}, false → { not: {} }.
import {
  followRefs,
  isObject,
  type Json,
  type JsonObject,
  pointerTokens,
  resolvePointer,
} from "@vbapi-sdk/tool-spec-model";

/** A schema or other OpenAPI object, as spec-diff walks it. */
export type Obj = JsonObject;

/** The object a value (or its chain of $refs) stands for, and the pointers followed to get there. */
export function deref(doc: Obj, node: unknown): { node: Obj; refs: string[] } {
  const { value, refs, siblings } = followRefs(doc, node as Json | undefined);
  let target = value;
  if (target === true || target === undefined) target = {};
  if (target === false) target = { not: {} };
  if (!isObject(target)) throw new Error(`expected an object, got ${JSON.stringify(target)}`);
  return { node: { ...target, ...siblings }, refs };
}

/** Names of the component schemas reachable from `paths` (directly or through other components). */
export function reachableSchemas(doc: Obj): Set<string> {
  const seen = new Set<string>();
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) for (const item of node) walk(item);
    else if (isObject(node)) {
      if (typeof node.$ref === "string" && node.$ref.startsWith("#") && !seen.has(node.$ref)) {
        seen.add(node.$ref);
        walk(resolvePointer(doc, node.$ref));
      }
      for (const child of Object.values(node)) walk(child);
    }
  };
  walk(doc.paths);
  const names = new Set<string>();
  for (const ref of seen) {
    const [kind, group, name, ...rest] = pointerTokens(ref);
    if (kind === "components" && group === "schemas" && name !== undefined && !rest.length)
      names.add(name);
  }
  return names;
}
