import { describe, expect, it } from "vitest";
import {
  followRefs,
  inlineRefs,
  isObject,
  type Json,
  resolvePointer,
  resolveRef,
  SpecError,
} from "../src/index.ts";

const doc: Json = {
  components: {
    schemas: {
      "a/b": { type: "string" },
      "tilde~name": { type: "integer" },
      "with space": { type: "boolean" },
      Alias: { $ref: "#/components/schemas/Target", description: "alias" },
      Target: { type: "object", properties: { x: { $ref: "#/components/schemas/a~1b" } } },
      Loop1: { $ref: "#/components/schemas/Loop2" },
      Loop2: { $ref: "#/components/schemas/Loop1" },
      Self: { $ref: "#/components/schemas/Self" },
      Tree: { type: "object", properties: { child: { $ref: "#/components/schemas/Tree" } } },
      Dangling: { $ref: "#/components/schemas/Nowhere" },
    },
  },
  list: ["zero", "one"],
};

describe("isObject", () => {
  it("is true for plain objects only", () => {
    expect([{}, { a: 1 }].map(isObject)).toEqual([true, true]);
    expect([null, [], "x", 1, undefined, true].map(isObject)).toEqual(Array(6).fill(false));
  });
});

describe("resolvePointer", () => {
  it("decodes ~1, ~0 and percent-encoding, and indexes arrays", () => {
    expect(resolvePointer(doc, "#/components/schemas/a~1b")).toEqual({ type: "string" });
    expect(resolvePointer(doc, "#/components/schemas/tilde~0name")).toEqual({ type: "integer" });
    expect(resolvePointer(doc, "#/components/schemas/with%20space")).toEqual({ type: "boolean" });
    expect(resolvePointer(doc, "#/list/1")).toBe("one");
    expect(resolvePointer(doc, "#")).toBe(doc);
  });

  it("is undefined where nothing is, including inherited names and bad indexes", () => {
    expect(resolvePointer(doc, "#/components/schemas/Missing")).toBeUndefined();
    expect(resolvePointer(doc, "#/components/toString")).toBeUndefined();
    expect(resolvePointer(doc, "#/list/01")).toBeUndefined();
    expect(resolvePointer(doc, "#/list/0/deeper")).toBeUndefined();
  });

  it("rejects external and malformed references with a SpecError naming them", () => {
    expect(() => resolvePointer(doc, "other.yaml#/x")).toThrow(
      new SpecError("external $ref other.yaml#/x is not supported: bundle the spec first"),
    );
    expect(() => resolvePointer(doc, "#components")).toThrow(/malformed \$ref #components/);
    expect(() => resolvePointer(doc, "#/a%E0%A4%A")).toThrow(/bad percent-encoding/);
  });
});

describe("followRefs and resolveRef", () => {
  it("follows a chain, listing the pointers and the sibling keywords", () => {
    const followed = followRefs(doc, { $ref: "#/components/schemas/Alias", title: "near" });
    expect(followed.refs).toEqual(["#/components/schemas/Alias", "#/components/schemas/Target"]);
    expect(followed.siblings).toEqual({ title: "near", description: "alias" });
    expect(isObject(followed.value) && followed.value.type).toBe("object");
  });

  it("returns a value that is not a reference as it is", () => {
    expect(resolveRef(doc, "plain")).toBe("plain");
    expect(resolveRef(doc, undefined)).toBeUndefined();
    expect(followRefs(doc, { type: "string" }).refs).toEqual([]);
  });

  it("reports a cycle with its whole chain, whatever its length", () => {
    expect(() => resolveRef(doc, { $ref: "#/components/schemas/Loop1" })).toThrow(
      "$ref cycle: #/components/schemas/Loop1 → #/components/schemas/Loop2 → #/components/schemas/Loop1",
    );
    expect(() => resolveRef(doc, { $ref: "#/components/schemas/Self" })).toThrow(
      "$ref cycle: #/components/schemas/Self → #/components/schemas/Self",
    );
  });

  it("follows a long acyclic chain (no arbitrary depth limit)", () => {
    const schemas: Record<string, Json> = { S100: { type: "string" } };
    for (let i = 0; i < 100; i++) schemas[`S${i}`] = { $ref: `#/components/schemas/S${i + 1}` };
    const long: Json = { components: { schemas } };
    expect(resolveRef(long, { $ref: "#/components/schemas/S0" })).toEqual({ type: "string" });
  });

  it("names an unresolved reference and the chain that led to it", () => {
    expect(() => resolveRef(doc, { $ref: "#/components/schemas/Dangling" })).toThrow(
      "unresolved $ref #/components/schemas/Nowhere (via #/components/schemas/Dangling)",
    );
  });

  it("leaves a recursive schema's inner reference alone (it is not on the chain)", () => {
    const tree = resolveRef(doc, { $ref: "#/components/schemas/Tree" });
    expect(tree).toEqual({
      type: "object",
      properties: { child: { $ref: "#/components/schemas/Tree" } },
    });
  });
});

describe("inlineRefs", () => {
  it("replaces every reference, deeply, keeping siblings under allOf", () => {
    expect(inlineRefs(doc, { $ref: "#/components/schemas/Alias" })).toEqual({
      allOf: [{ type: "object", properties: { x: { type: "string" } } }],
      description: "alias",
    });
    expect(inlineRefs(doc, [{ $ref: "#/components/schemas/a~1b" }, 3])).toEqual([
      { type: "string" },
      3,
    ]);
  });

  it("does not modify the document", () => {
    const before = JSON.stringify(doc);
    inlineRefs(doc, { $ref: "#/components/schemas/Alias" });
    expect(JSON.stringify(doc)).toBe(before);
  });

  it("reports a recursive schema as a cycle instead of recursing forever", () => {
    expect(() => inlineRefs(doc, { $ref: "#/components/schemas/Tree" })).toThrow(
      "$ref cycle: #/components/schemas/Tree → #/components/schemas/Tree cannot be inlined",
    );
  });
});
