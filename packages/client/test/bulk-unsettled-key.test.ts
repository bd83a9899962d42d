// A request given up on without its answer (a timeout, a connection lost after sending) may
// still reach VBA and be applied later, after a record sent since. Here a fetch of the test's
// own delivers the first request to the reference server only after the client has given up on
// it (a request stuck in a queue on the way), so the store shows what VBA would end with. A
// later record with the same key is then not sent in this run: the report never says the newer
// data was saved while the older is what VBA keeps.

import { type MockServer, startMockServer } from "@vbapi-sdk/mock-server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { UNSETTLED_KEY_MESSAGE } from "../src/bulk/engine.ts";
import { upsertAllTolerances } from "../src/bulk/index.ts";
import { createVbapiClient } from "../src/client/client.ts";

let server: MockServer;
beforeAll(async () => {
  server = await startMockServer({ rateLimit: false });
});
afterAll(() => server.close());

let scenario = 0;

/** A client whose first request reaches the server `lateMs` after it was sent, too late. */
function lateFirstRequest(database: string, options: { maxRetries: number }) {
  const late: Promise<unknown>[] = [];
  let first = true;
  const client = createVbapiClient({
    baseUrl: server.url,
    apiKey: server.credentials.apiKey,
    token: server.credentials.token,
    database,
    timeoutMs: 30,
    maxRetries: options.maxRetries,
    backoff: { initialDelayMs: 0, maxDelayMs: 0, maxRetryAfterMs: 0 },
    rateLimit: false,
    logLevel: "off",
    fetch: (async (url: string, init: RequestInit) => {
      if (!first) return fetch(url, init);
      first = false;
      // Delivered later, whatever the client does meanwhile (its abort does not reach it).
      late.push(
        new Promise((resolve) => setTimeout(resolve, 120)).then(() =>
          fetch(url, { ...init, signal: undefined }).then((r) => r.arrayBuffer()),
        ),
      );
      return new Promise((_, reject) => {
        init.signal?.addEventListener("abort", () => reject(init.signal?.reason), { once: true });
      });
    }) as typeof fetch,
  });
  return { client, delivered: () => Promise.all(late) };
}

const stored = (database: string, key: number) =>
  server.store.get(database, "Tolerance", { tolerance_Key: key })?.body;

describe("a later record with the key of one given up on without its answer", () => {
  it.each([
    { how: "the first record failed (no retry)", maxRetries: 0, maxRecordRetries: 0 },
    { how: "the client's retry of it succeeded", maxRetries: 1, maxRecordRetries: 0 },
    { how: "the engine's re-send of it succeeded", maxRetries: 0, maxRecordRetries: 1 },
  ])("is not sent, and the report matches what VBA keeps: $how", async (c) => {
    const database = `unsettled${++scenario}`;
    const { client, delivered } = lateFirstRequest(database, c);
    const records = [
      { tolerance_Key: 18, tolerance1: 1 },
      { tolerance_Key: 7, tolerance1: 7 },
      { tolerance_Key: 18, tolerance1: 2 },
    ];
    const report = await upsertAllTolerances(client, records, {
      chunkSize: 1,
      concurrency: 1,
      maxRecordRetries: c.maxRecordRetries,
      recordRetryDelayMs: 0,
    });
    await delivered();
    const [first, other, later] = report.items;
    // Another key goes on as usual.
    expect(other?.outcome).toBe("created");
    expect(stored(database, 7)).toEqual(records[1]);
    // The later record of key 18 was never sent: to send again (vbapi resume does).
    expect(later).toMatchObject({ outcome: "not_attempted", attempts: 0 });
    expect(later?.message).toBe(UNSETTLED_KEY_MESSAGE);
    // What VBA keeps is the first record, as the report says (saved, or may have been applied).
    expect(stored(database, 18)).toEqual(records[0]);
    if (c.maxRetries === 0 && c.maxRecordRetries === 0) {
      expect(first).toMatchObject({ outcome: "failed", mayHaveBeenApplied: true });
    } else {
      expect(first?.outcome).toBe("created");
    }
    expect(report.totals).toMatchObject({ total: 3, notAttempted: 1 });
  });

  it("a record answered in time leaves later records of its key free to go", async () => {
    const database = `unsettled${++scenario}`;
    const client = createVbapiClient({
      baseUrl: server.url,
      apiKey: server.credentials.apiKey,
      token: server.credentials.token,
      database,
      rateLimit: false,
      logLevel: "off",
    });
    server.faults.add({ type: "status", status: 503, count: 1, target: { database } });
    const records = [
      { tolerance_Key: 18, tolerance1: 1 },
      { tolerance_Key: 18, tolerance1: 2 },
    ];
    const report = await upsertAllTolerances(client, records, {
      chunkSize: 1,
      recordRetryDelayMs: 0,
    });
    server.faults.clear();
    // A 503 is an answer: nothing of that request is still on its way.
    expect(report.items.map((i) => i.outcome)).toEqual(["created", "updated"]);
    expect(stored(database, 18)).toEqual(records[1]);
  });
});
