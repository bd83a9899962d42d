import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  codePoints,
  fail,
  isDateTime,
  type ValidationIssue,
} from "../src/runtime/validation-runtime.ts";
import { RUNTIME_FILE, runtimeSource } from "../src/runtime.ts";

describe("the validator runtime", () => {
  it("accepts RFC 3339 date-times with a time zone", () => {
    for (const ok of [
      "2024-02-29T12:00:00Z",
      "2023-12-31t23:59:59.123456+05:30",
      "2023-06-01T08:00:00-07:00",
      "2016-12-31T23:59:60Z",
      "2017-01-01T00:59:60+01:00",
    ])
      expect(isDateTime(ok), ok).toBe(true);
  });

  it("rejects dates without a zone, impossible days and misplaced leap seconds", () => {
    for (const bad of [
      "2023-02-29T12:00:00Z",
      "2023-06-01T08:00:00",
      "2023-06-01",
      "2023-13-01T00:00:00Z",
      "2023-06-01T24:00:00Z",
      "2023-06-01T12:00:60Z",
      "2023-06-01T08:00:00.Z",
      "2023-06-01T08:00:00Zjunk",
      // Strict like the reference server: no space for T, offsets ±hh:mm within range.
      "2023-06-01 08:00:00-07:00",
      "2023-06-01T08:00:00-0700",
      "2023-06-01T08:00:00+01",
      "2023-06-01T08:00:00+25:00",
      "2023-06-01T08:00:00+01:60",
    ])
      expect(isDateTime(bad), bad).toBe(false);
  });

  it("counts code points, not UTF-16 units", () => {
    expect(codePoints("a😀b")).toBe(3);
    expect(codePoints("\ud800x")).toBe(2);
  });

  it("collects issues only when asked to", () => {
    const out: ValidationIssue[] = [];
    expect(fail(out, 2, "name", "is required")).toBe(false);
    expect(fail(null, 3, "x", "y")).toBe(false);
    expect(out).toEqual([{ index: 2, path: "name", message: "is required" }]);
  });
});

describe("inlining the runtime", () => {
  it("copies the module from the marker, keeping types exported and helpers private", () => {
    const text = runtimeSource(readFileSync(RUNTIME_FILE, "utf8"));
    expect(text.startsWith("export interface ValidationIssue {")).toBe(true);
    expect(text).toContain("export type RecordValidator =");
    expect(text).toContain("\nfunction isDateTime(s: string): boolean {");
    expect(text).not.toMatch(/^export (function|const) /m);
    expect(text).not.toContain("codegen: copy from here");
  });

  it("refuses a runtime without the marker or with an import", () => {
    expect(() => runtimeSource("export const x = 1;\n")).toThrow(
      /no "\/\/ codegen: copy from here"/,
    );
    expect(() =>
      runtimeSource('// codegen: copy from here\nimport { x } from "y";\nexport const z = x;\n'),
    ).toThrow(/must not import anything/);
  });
});
