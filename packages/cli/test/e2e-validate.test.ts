// End-to-end: `vbapi validate`, `entities` and `template` (the built bin); nothing is sent.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { server } from "./e2e-setup.ts";
import { events, tempDir, vbapi } from "./helpers.ts";

describe("vbapi validate, entities, template", () => {
  it("lists invalid rows and repeated keys without sending anything (exit 1), a clean file exits 0", async () => {
    const dir = tempDir();
    const file = join(dir, "t.csv");
    writeFileSync(file, "tolerance_Key|tolerance1\n1|1\n2|x\n1|2\n3|\n");
    const requests = server.stats.requests;
    const r = await vbapi(["validate", "tolerances", file]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('row 2, column "tolerance1": is not a number');
    expect(r.stdout).toContain('row 4, column "tolerance1": is empty; tolerance1 is required');
    expect(r.stdout).toContain("warning: row 3 has the same key (tolerance_Key) as row 1");
    const json = await vbapi(["validate", "tolerances", file, "--json"]);
    expect(events(json.stdout).at(-1)).toEqual({
      event: "done",
      rows: 4,
      invalid: 2,
      duplicates: 1,
      valid: 2,
    });
    expect(server.stats.requests).toBe(requests);
  });

  it("entities come from the spec, and every template validates", async () => {
    const list = await vbapi(["entities", "--json"]);
    expect(list.code).toBe(0);
    const entities = JSON.parse(list.stdout) as {
      name: string;
      pathParams: { flag: string }[];
      fields: { name: string; required: boolean }[];
    }[];
    expect(entities.map((e) => e.name).sort()).toEqual([
      "armor-code-ex-codes",
      "claim-prompt-pays",
      "events",
      "provider-cred-services",
      "tolerances",
    ]);
    expect(entities.find((e) => e.name === "tolerances")?.fields).toContainEqual(
      expect.objectContaining({ name: "tolerance1", type: "number", required: true }),
    );
    const dir = tempDir();
    // Each entity's CSV template, and the NDJSON and JSON ones of one entity, pass validate.
    const cases = [
      ...entities.map((e) => ({ entity: e, format: "csv" })),
      { entity: entities.find((e) => e.name === "events"), format: "ndjson" },
      { entity: entities.find((e) => e.name === "provider-cred-services"), format: "json" },
    ];
    await Promise.all(
      cases.map(async ({ entity, format }) => {
        if (!entity) throw new Error("entity missing");
        const t = await vbapi(["template", entity.name, "--format", format]);
        const file = join(dir, `${entity.name}.${format}`);
        writeFileSync(file, t.stdout);
        // The spec's ProviderCredService example belongs to credentialing process 5021.
        const extra = entity.pathParams.flatMap((p) => [p.flag, "5021"]);
        const v = await vbapi(["validate", entity.name, file, ...extra]);
        expect({ entity: entity.name, format, code: v.code, out: v.stdout }).toEqual({
          entity: entity.name,
          format,
          code: 0,
          out: "",
        });
      }),
    );
  });
});
