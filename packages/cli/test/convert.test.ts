import { describe, expect, it } from "vitest";
import { ColumnError, Converter, convertCell } from "../src/convert.ts";
import { cliEntities, cliNameOf, type FieldMeta, findEntity } from "../src/schema.ts";

const tolerances = findEntity("tolerances");
const events = findEntity("events");
const services = findEntity("provider-cred-services");
if (!tolerances || !events || !services) throw new Error("entities missing from the spec");

const field = (over: Partial<FieldMeta>): FieldMeta => ({
  name: "f",
  type: "string",
  format: undefined,
  required: false,
  nullable: false,
  maxLength: undefined,
  minLength: undefined,
  description: "",
  ...over,
});

describe("entity table", () => {
  it("names every batch entity of the spec in plural kebab case", () => {
    expect(cliEntities.map((e) => e.name).sort()).toEqual([
      "armor-code-ex-codes",
      "claim-prompt-pays",
      "events",
      "provider-cred-services",
      "tolerances",
    ]);
    expect(cliNameOf("ProviderCredService")).toBe("provider-cred-services");
    expect(services.pathParams).toEqual(["providerCredKey"]);
    expect(tolerances.fields.find((f) => f.name === "group_ID")).toMatchObject({
      type: "string",
      nullable: true,
      maxLength: 20,
    });
  });
});

describe("convertCell", () => {
  it("converts by the spec's type, naming the problem but never the value", () => {
    const int32 = field({ type: "integer", format: "int32" });
    expect(convertCell(int32, " 42 ")).toBe(42);
    expect(convertCell(int32, "-7")).toBe(-7);
    expect(convertCell(int32, "12.0")).toBe(12);
    expect(convertCell(int32, "2147483647")).toBe(2147483647);
    expect(convertCell(int32, "2147483648")).toEqual({ error: "is out of range (int32)" });
    expect(convertCell(int32, "1.5")).toEqual({ error: "is not a whole number" });
    expect(convertCell(int32, "0x10")).toEqual({ error: "is not a whole number" });
    const num = field({ type: "number" });
    expect(convertCell(num, "1e3")).toBe(1000);
    expect(convertCell(num, ".5")).toBe(0.5);
    for (const bad of ["1,5", "Infinity", "NaN", "1e999", "12abc"])
      expect(convertCell(num, bad)).toEqual({ error: "is not a number" });
    const bool = field({ type: "boolean" });
    expect(["TRUE", "yes", "Y", "1", "t"].map((v) => convertCell(bool, v))).toEqual([
      true,
      true,
      true,
      true,
      true,
    ]);
    expect(["false", "No", "n", "0", "F"].map((v) => convertCell(bool, v))).toEqual([
      false,
      false,
      false,
      false,
      false,
    ]);
    expect(convertCell(bool, "maybe")).toMatchObject({
      error: expect.stringContaining("not a boolean"),
    });
    expect(convertCell(field({}), "  keep spaces ")).toBe("  keep spaces ");
  });

  it("accepts date-times with and without an offset and plain dates", () => {
    const dt = field({ format: "date-time" });
    expect(convertCell(dt, "2026-01-05")).toBe("2026-01-05T00:00:00Z");
    expect(convertCell(dt, "2026-01-05", "-05:00")).toBe("2026-01-05T00:00:00-05:00");
    expect(convertCell(dt, "2026-01-05 08:30")).toBe("2026-01-05T08:30:00Z");
    expect(convertCell(dt, "2026-01-05T08:30:15.123")).toBe("2026-01-05T08:30:15.123Z");
    expect(convertCell(dt, "2026-01-05T08:30:15+0200")).toBe("2026-01-05T08:30:15+02:00");
    expect(convertCell(dt, "2026-01-05t08:30:15z")).toBe("2026-01-05T08:30:15Z");
    for (const bad of [
      "2026-02-30",
      "2026-13-01",
      "05/01/2026",
      "2026-01-05T25:00",
      "2026-01-05T08:30+24:00",
      "yesterday",
    ]) {
      expect(convertCell(dt, bad)).toMatchObject({
        error: expect.stringContaining("is not a date"),
      });
    }
    expect(convertCell(dt, "2024-02-29")).toBe("2024-02-29T00:00:00Z");
  });
});

describe("Converter", () => {
  it("matches headers case-insensitively, applies --map, ignores result columns", () => {
    const c = new Converter(tolerances, { map: { Amount: "tolerance1", Remarks: null } });
    const columns = ["TOLERANCE_KEY", "Amount", "Remarks", "_row", "_message"];
    const targets = c.header(columns);
    const { record, issues } = c.fromCells(columns, targets, ["5", "2.5", "x", "9", "old"], false);
    expect(issues).toEqual([]);
    expect(record).toEqual({ tolerance_Key: 5, tolerance1: 2.5 });
  });

  it("rejects unknown columns, repeated fields and missing required fields, naming each", () => {
    const c = new Converter(tolerances);
    expect(() => c.header(["tolerance_Key", "tolerance1", "Colour", "Size"])).toThrow(
      /unknown columns "Colour", "Size"/,
    );
    expect(() => c.header(["tolerance_Key", "Tolerance1", "tolerance1"])).toThrow(
      /columns "Tolerance1" and "tolerance1" both feed field tolerance1/,
    );
    expect(() => c.header(["tolerance_Key"])).toThrow(/no column for required field tolerance1/);
    expect(() => new Converter(tolerances, { map: { A: "nope" } })).toThrow(ColumnError);
    expect(
      new Converter(tolerances, { ignoreColumns: ["colour"] }).header([
        "tolerance_Key",
        "tolerance1",
        "Colour",
      ]),
    ).toHaveLength(3);
    expect(
      new Converter(tolerances, { ignoreUnknownColumns: true }).header([
        "tolerance_Key",
        "tolerance1",
        "Colour",
      ]),
    ).toHaveLength(3);
  });

  it("applies the empty-cell rule: null when nullable, absent when optional, an error when required", () => {
    const columns = ["tolerance_Key", "tolerance1", "group_ID", "entry_Date"];
    const auto = new Converter(tolerances);
    const t = auto.header(columns);
    expect(auto.fromCells(columns, t, ["1", "2", "", ""], false)).toEqual({
      record: { tolerance_Key: 1, tolerance1: 2, group_ID: null },
      issues: [],
    });
    expect(auto.fromCells(columns, t, ["1", " ", "", ""], false).issues).toEqual([
      { column: "tolerance1", message: "is empty; tolerance1 is required" },
    ]);
    const absent = new Converter(tolerances, { emptyAs: "absent" });
    expect(absent.fromCells(columns, t, ["1", "2", "", ""], false).record).toEqual({
      tolerance_Key: 1,
      tolerance1: 2,
    });
    const empty = new Converter(tolerances, { emptyAs: "empty-string" });
    expect(empty.fromCells(columns, t, ["1", "2", "", ""], false).record).toEqual({
      tolerance_Key: 1,
      tolerance1: 2,
      group_ID: "",
    });
    const nul = new Converter(tolerances, { emptyAs: "null" });
    expect(nul.fromCells(columns, t, ["1", "2", "", ""], false).issues).toEqual([
      { column: "entry_Date", message: "is empty; entry_Date cannot be null" },
    ]);
  });

  it("reports every problem of a row by column, with the spec's validator messages", () => {
    const columns = ["tolerance_Key", "tolerance1", "group_ID"];
    const c = new Converter(tolerances);
    const t = c.header(columns);
    expect(c.fromCells(columns, t, ["x", "y", "z"], false).issues).toEqual([
      { column: "tolerance_Key", message: "is not a whole number" },
      { column: "tolerance1", message: "is not a number" },
    ]);
    expect(c.fromCells(columns, t, ["1", "2", "G".repeat(21)], false).issues).toEqual([
      { column: "group_ID", message: "must be at most 20 characters long" },
    ]);
    expect(c.fromCells(columns, t, ["1", "2"], false).issues[0]).toEqual({
      column: "",
      message: "has 2 cells; the header has 3",
    });
    // Invalid UTF-8 (decoded as U+FFFD) is an error only when the file really had invalid bytes.
    expect(c.fromCells(columns, t, ["1", "2", "G\uFFFD"], true).issues).toEqual([
      { column: "group_ID", message: "is not valid UTF-8" },
    ]);
    expect(c.fromCells(columns, t, ["1", "2", "G\uFFFD"], false).issues).toEqual([]);
  });

  it("fills and checks the path parameter's record field", () => {
    const c = new Converter(services, { pathParams: { providerCredKey: 5021 } });
    const columns = ["credService_Key", "providerCred_Key"];
    const t = c.header(["credService_Key"]);
    expect(c.fromCells(["credService_Key"], t, ["3"], false)).toEqual({
      record: { credService_Key: 3, providerCred_Key: 5021 },
      issues: [],
    });
    const t2 = c.header(columns);
    expect(c.fromCells(columns, t2, ["3", "5022"], false).issues).toEqual([
      { column: "providerCred_Key", message: "must equal the providerCredKey path parameter" },
    ]);
  });

  it("converts JSON records: keys like headers, strings like cells, other values as given", () => {
    const c = new Converter(events);
    const ok = c.fromObject(
      {
        EVENT_ID: "7",
        claim_Audit_Event: "yes",
        process_Automation_Event: false,
        reminder: false,
        due_Date: "2026-03-01",
      },
      false,
    );
    expect(ok.issues).toEqual([]);
    expect(ok.record).toMatchObject({
      event_ID: 7,
      claim_Audit_Event: true,
      reminder: false,
      due_Date: "2026-03-01T00:00:00Z",
    });
    expect(c.fromObject([1, 2], false).issues).toEqual([
      { column: "", message: "is not a JSON object" },
    ]);
    expect(c.fromObject({ event_ID: 1, extra: 1 }, false).issues[0]).toMatchObject({
      column: "extra",
    });
    expect(
      c.fromObject(
        { event_ID: "1.5", claim_Audit_Event: 1, process_Automation_Event: false, reminder: false },
        false,
      ).issues,
    ).toEqual([{ column: "event_ID", message: "is not a whole number" }]);
  });
});
