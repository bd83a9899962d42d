// The one `$ref` resolver of the tools. Bundled documents only: every reference is a local JSON
// pointer ("#/components/schemas/Tolerance"). The cycle rule: following a chain of references,
// reaching a pointer already followed in that chain is a cycle, reported with the whole chain.
// (A recursive schema is not such a cycle: its `$ref` sits below a schema, not on the chain.)
import { isObject, type Json, type JsonObject, SpecError } from "./json.ts";

/** The pointer's reference tokens: "#/a~1b/c" → ["a/b", "c"] (RFC 6901, URI fragment form). */
export function pointerTokens(ref: string): string[] {
  if (!ref.startsWith("#"))
    throw new SpecError(`external $ref ${ref} is not supported: bundle the spec first`);
  if (ref === "#") return [];
  if (!ref.startsWith("#/")) throw new SpecError(`malformed $ref ${ref}`);
  return ref
    .slice(2)
    .split("/")
    .map((raw) => {
      try {
        return decodeURIComponent(raw).replace(/~1/g, "/").replace(/~0/g, "~");
      } catch {
        throw new SpecError(`malformed $ref ${ref}: bad percent-encoding`);
      }
    });
}

/** The value a local pointer names, or undefined when nothing is there. */
export function resolvePointer(doc: Json, ref: string): Json | undefined {
  let node: Json | undefined = doc;
  for (const token of pointerTokens(ref)) {
    if (Array.isArray(node)) node = /^(0|[1-9]\d*)$/.test(token) ? node[Number(token)] : undefined;
    else if (isObject(node)) node = Object.hasOwn(node, token) ? node[token] : undefined;
    else return undefined;
  }
  return node;
}

export interface Followed {
  /** What the chain ends at (the value itself when it is not a reference). */
  value: Json | undefined;
  /** The pointers followed, in order (empty when the value is not a reference). */
  refs: string[];
  /** Keywords written next to the `$ref`s (OpenAPI 3.1 allows them); nearer ones win. */
  siblings: JsonObject;
}

/** Follows a chain of references to the first value that is not one. */
export function followRefs(doc: Json, value: Json | undefined): Followed {
  const refs: string[] = [];
  let siblings: JsonObject = {};
  let current = value;
  while (isObject(current) && typeof current.$ref === "string") {
    const ref = current.$ref;
    if (refs.includes(ref)) throw new SpecError(`$ref cycle: ${[...refs, ref].join(" → ")}`);
    refs.push(ref);
    const { $ref: _, ...rest } = current;
    siblings = { ...rest, ...siblings };
    current = resolvePointer(doc, ref);
    if (current === undefined) {
      const via = refs.length > 1 ? ` (via ${refs.slice(0, -1).join(" → ")})` : "";
      throw new SpecError(`unresolved $ref ${ref}${via}`);
    }
  }
  return { value: current, refs, siblings };
}

/** The value a reference chain ends at; any other value as it is. */
export function resolveRef(doc: Json, value: Json | undefined): Json | undefined {
  return followRefs(doc, value).value;
}

/**
 * A copy of `value` with every reference replaced by its target, all the way down. A reference
 * with sibling keywords becomes `{ allOf: [target], ...siblings }`. A schema that refers to itself
 * cannot be inlined: that is reported as a cycle.
 */
export function inlineRefs(doc: Json, value: Json | undefined): Json | undefined {
  const walk = (node: Json, open: string[]): Json => {
    if (Array.isArray(node)) return node.map((item) => walk(item, open));
    if (!isObject(node)) return node;
    if (typeof node.$ref === "string") {
      const { $ref, ...siblings } = node;
      if (open.includes($ref))
        throw new SpecError(`$ref cycle: ${[...open, $ref].join(" → ")} cannot be inlined`);
      const target = resolvePointer(doc, $ref);
      if (target === undefined) throw new SpecError(`unresolved $ref ${$ref}`);
      const inlined = walk(target, [...open, $ref]);
      return Object.keys(siblings).length === 0
        ? inlined
        : { allOf: [inlined], ...(walk(siblings, open) as JsonObject) };
    }
    const out: JsonObject = {};
    for (const [key, child] of Object.entries(node)) out[key] = walk(child, open);
    return out;
  };
  return value === undefined ? undefined : walk(value, []);
}
