// The CLI names each entity from the spec: its x-vbapi-plural in kebab-case when the spec sets
// one (a sixth endpoint's "Policies" is `policies`, not `policys`), else the schema name + s.
import { describe, expect, it } from "vitest";
import { cliEntities, cliNameOf } from "../src/schema.ts";

describe("CLI entity names", () => {
  it("are the plural in kebab-case", () => {
    expect(cliNameOf("ArmorCodeExCode")).toBe("armor-code-ex-codes");
    expect(cliNameOf("Policy", "Policies")).toBe("policies");
    expect(cliNameOf("ProviderCredService", "ProviderCredServices")).toBe("provider-cred-services");
  });

  it("come from the entity table for every entity the spec has", () => {
    for (const e of cliEntities) {
      expect(e.name).toMatch(/^[a-z][a-z0-9-]*$/);
    }
    expect(new Set(cliEntities.map((e) => e.name)).size).toBe(cliEntities.length);
  });
});
