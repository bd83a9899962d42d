import { readFileSync } from "node:fs";
import { type MockServer, startMockServer } from "@vbapi-sdk/mock-server";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createVbapiClient, upsertEvents, type VbaEvent } from "../src/generated/index.ts";

let server: MockServer;
beforeAll(async () => {
  server = await startMockServer({ rateLimit: false });
});
afterAll(() => server.close());

const event = (id: number): VbaEvent => ({
  event_ID: id,
  claim_Audit_Event: false,
  process_Automation_Event: false,
  reminder: true,
});

describe("upsertEvents", () => {
  it("creates, then updates events, in input order", async () => {
    const client = createVbapiClient({
      baseUrl: server.url,
      apiKey: "test-api-key",
      token: "test-token",
      database: "events",
    });
    const first = await upsertEvents(client, [event(1), event(2)]);
    expect(first.items.map((i) => [i.key, i.outcome])).toEqual([
      [{ event_ID: 1 }, "created"],
      [{ event_ID: 2 }, "created"],
    ]);
    const second = await upsertEvents(client, [event(2), event(3)], { maxRetries: 0 });
    expect(second.items.map((i) => i.outcome)).toEqual(["updated", "created"]);
    expect(server.store.count("events", "Event")).toBe(3);
  });

  it("the README example is the tested example, and it runs", async () => {
    const example = readFileSync(new URL("../examples/quickstart.ts", import.meta.url), "utf8");
    expect(readFileSync(new URL("../README.md", import.meta.url), "utf8")).toContain(
      example.trim(),
    );
    const log = vi.spyOn(console, "log").mockImplementation(() => {});
    await import("../examples/quickstart.ts");
    expect(log).toHaveBeenCalledWith(expect.stringMatching(/^2 succeeded, 0 failed/));
    log.mockRestore();
  });
});
