// `vbapi template`: the CSV template's example cells come from the spec, not from the user, so
// a text cell that would start a formula gets a leading '; numbers stay numbers (the template
// must load as it is).
import { parse } from "csv-parse/sync";
import { describe, expect, it } from "vitest";
import { templateText } from "../src/commands/template.ts";
import { findEntity } from "../src/schema.ts";

describe("vbapi template", () => {
  it("quotes example text that would start a formula, keeps numbers and CSV quoting", () => {
    const tolerances = findEntity("tolerances");
    if (!tolerances) throw new Error("no tolerances entity");
    const entity = {
      ...tolerances,
      example: {
        tolerance_Key: -310,
        tolerance1: -2.5,
        group_ID: '=HYPERLINK("http://evil.example","click")',
        payment_Method: "@SUM(1)",
        entry_User: "-",
        update_User: "BILLING01",
      },
    };
    const [header, row] = parse(templateText(entity, "csv")) as string[][];
    const cells = Object.fromEntries((header ?? []).map((h, i) => [h, row?.[i]]));
    expect(cells).toMatchObject({
      tolerance_Key: "-310",
      tolerance1: "-2.5",
      group_ID: `'=HYPERLINK("http://evil.example","click")`,
      payment_Method: "'@SUM(1)",
      entry_User: "'-",
      update_User: "BILLING01",
    });
    // The JSON templates are the spec's values as they are.
    expect(JSON.parse(templateText(entity, "ndjson"))).toMatchObject(entity.example);
  });
});
