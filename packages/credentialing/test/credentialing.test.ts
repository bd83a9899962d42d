import { readFileSync } from "node:fs";
import { ValidationError } from "@vbapi-sdk/client";
import { type MockServer, startMockServer } from "@vbapi-sdk/mock-server";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createVbapiClient, upsertProviderCredServices } from "../src/generated/index.ts";

let server: MockServer;
beforeAll(async () => {
  server = await startMockServer({ rateLimit: false });
});
afterAll(() => server.close());

const client = () =>
  createVbapiClient({
    baseUrl: server.url,
    apiKey: "test-api-key",
    token: "test-token",
    database: "cred",
  });

describe("upsertProviderCredServices", () => {
  it("sends the batch to the credentialing process's path", async () => {
    const r = await upsertProviderCredServices(client(), 77, [
      { providerCred_Key: 77, credService_Key: 1 },
      { providerCred_Key: 77, credService_Key: 2, percentage: 10 },
    ]);
    expect(r.items.map((i) => [i.key, i.outcome])).toEqual([
      [{ providerCred_Key: 77, credService_Key: 1 }, "created"],
      [{ providerCred_Key: 77, credService_Key: 2 }, "created"],
    ]);
    expect(server.store.count("cred", "ProviderCredService")).toBe(2);
  });

  it("rejects a record of another process before sending", async () => {
    const before = server.stats.requests;
    const error = await upsertProviderCredServices(client(), 77, [
      { providerCred_Key: 78, credService_Key: 1 },
    ]).catch((e) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect(error.issues).toEqual([
      {
        index: 0,
        path: "providerCred_Key",
        message: "must equal the providerCredKey path parameter",
      },
    ]);
    expect(server.stats.requests).toBe(before);
  });

  it("with skip-invalid, sends the others and reports the mismatch as failed", async () => {
    const r = await upsertProviderCredServices(
      client(),
      77,
      [
        { providerCred_Key: 78, credService_Key: 5 },
        { providerCred_Key: 77, credService_Key: 6 },
      ],
      { validate: "skip-invalid" },
    );
    expect(r.items.map((i) => [i.outcome, i.status])).toEqual([
      ["failed", 0],
      ["created", 201],
    ]);
  });

  it("without validation, the server's own per-record 400 comes back as a failed item", async () => {
    const r = await upsertProviderCredServices(
      client(),
      77,
      [{ providerCred_Key: 79, credService_Key: 7 }],
      { validate: false },
    );
    expect(r.items[0]).toMatchObject({ outcome: "failed", status: 400 });
  });

  it("the README example is the tested example, and it runs", async () => {
    const example = readFileSync(new URL("../examples/quickstart.ts", import.meta.url), "utf8");
    expect(readFileSync(new URL("../README.md", import.meta.url), "utf8")).toContain(
      example.trim(),
    );
    const log = vi.spyOn(console, "log").mockImplementation(() => {});
    await import("../examples/quickstart.ts");
    expect(log).toHaveBeenCalledWith("2 succeeded, 0 failed");
    log.mockRestore();
  });
});
