import { readFileSync } from "node:fs";
import { type MockServer, startMockServer } from "@vbapi-sdk/mock-server";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import {
  createVbapiClient,
  upsertArmorCodeExCodes,
  upsertClaimPromptPays,
  upsertTolerances,
} from "../src/generated/index.ts";

let server: MockServer;
beforeAll(async () => {
  server = await startMockServer({ rateLimit: false });
});
afterAll(() => server.close());

describe("billing upserts", () => {
  it("upsert each entity to its own endpoint", async () => {
    const client = createVbapiClient({
      baseUrl: server.url,
      apiKey: "test-api-key",
      token: "test-token",
      database: "billing",
    });
    const t = await upsertTolerances(client, [{ tolerance_Key: 1, tolerance1: 0.5 }]);
    expect(t.items[0]).toMatchObject({ key: { tolerance_Key: 1 }, outcome: "created" });
    const again = await upsertTolerances(client, [{ tolerance_Key: 1, tolerance1: 0.75 }]);
    expect(again.items[0]?.outcome).toBe("updated");
    const p = await upsertClaimPromptPays(client, [{ claimPromptPay_Key: 9, tax_ID: "123" }]);
    expect(p.items[0]).toMatchObject({ key: { claimPromptPay_Key: 9 }, outcome: "created" });
    const a = await upsertArmorCodeExCodes(client, [
      { armorCodeExCode_Key: 4, armor_Code: "A", ex_Code: "E" },
    ]);
    expect(a.items[0]).toMatchObject({ key: { armorCodeExCode_Key: 4 }, outcome: "created" });
    expect(server.store.summary("billing")).toMatchObject({
      Tolerance: 1,
      ClaimPromptPay: 1,
      ArmorCodeExCode: 1,
    });
  });

  it("the README example is the tested example, and it runs", async () => {
    const example = readFileSync(new URL("../examples/quickstart.ts", import.meta.url), "utf8");
    expect(readFileSync(new URL("../README.md", import.meta.url), "utf8")).toContain(
      example.trim(),
    );
    const log = vi.spyOn(console, "log").mockImplementation(() => {});
    await import("../examples/quickstart.ts");
    expect(log).toHaveBeenCalledWith("4 succeeded, 0 failed");
    log.mockRestore();
  });
});
