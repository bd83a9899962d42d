// The streaming report mode (`onRecord` + `report: "totals"`) against the reference server.
import { type MockServer, startMockServer } from "@vbapi-sdk/mock-server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BulkCallbackError } from "../src/base/errors.ts";
import type { BulkItem } from "../src/base/types.ts";
import { upsertAllTolerances } from "../src/bulk/index.ts";
import type { EntityRecord } from "../src/generated/entities.ts";
import { serverClient } from "./helpers.ts";

type Tolerance = EntityRecord<"Tolerance">;

let server: MockServer;
beforeAll(async () => {
  server = await startMockServer({ rateLimit: false });
});
afterAll(async () => {
  await server?.close();
});

const client = (database: string) =>
  serverClient(server, { database, maxRetries: 0, rateLimit: false });

function* tolerances(n: number, bad: Set<number> = new Set()): Generator<Tolerance> {
  for (let i = 0; i < n; i++) {
    yield bad.has(i)
      ? ({ tolerance_Key: i, tolerance1: "not a number" } as unknown as Tolerance)
      : { tolerance_Key: i, tolerance1: 1.5 };
  }
}

describe("streaming report mode", () => {
  it("hands every record to onRecord exactly once and keeps only totals", async () => {
    const seen: BulkItem<{ tolerance_Key: number }>[] = [];
    const report = await upsertAllTolerances(
      client("stream1"),
      tolerances(1_234, new Set([7, 900])),
      {
        chunkSize: 100,
        report: "totals",
        onRecord: (item) => seen.push(item),
      },
    );
    expect(report.items).toEqual([]);
    expect(report.totals).toEqual({
      total: 1_234,
      created: 1_232,
      updated: 0,
      failed: 2,
      notAttempted: 0,
    });
    expect(seen).toHaveLength(1_234);
    expect(new Set(seen.map((item) => item.index)).size).toBe(1_234);
    for (const item of seen) expect(item.key.tolerance_Key).toBe(item.index);
    const failed = seen.filter((item) => item.outcome === "failed").map((item) => item.index);
    expect(failed.sort((a, b) => a - b)).toEqual([7, 900]);
    expect(server.store.list("stream1", "Tolerance")).toHaveLength(1_232);
  });

  it("in the default mode passes the same items the report holds", async () => {
    const seen: BulkItem<{ tolerance_Key: number }>[] = [];
    const report = await upsertAllTolerances(client("stream2"), [...tolerances(50)], {
      onRecord: (item) => seen.push(item),
    });
    expect(report.items).toHaveLength(50);
    expect(new Set(seen)).toEqual(new Set(report.items));
  });

  it("stops the run when onRecord throws and rejects with the report of what happened", async () => {
    let calls = 0;
    const failure = await upsertAllTolerances(client("stream3"), tolerances(5_000), {
      chunkSize: 50,
      concurrency: 2,
      onRecord: () => {
        calls++;
        if (calls === 60) throw new Error("journal disk full");
      },
    }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(BulkCallbackError);
    const { report, cause } = failure as BulkCallbackError<{ tolerance_Key: number }>;
    expect((cause as Error).message).toBe("journal disk full");
    // The callback is not called again after it threw.
    expect(calls).toBe(60);
    // Every record read is accounted for, and the stop left most of the input unread.
    const t = report.totals;
    expect(t.created + t.updated + t.failed + t.notAttempted).toBe(t.total);
    expect(t.total).toBeLessThan(5_000);
    expect(server.store.list("stream3", "Tolerance").length).toBe(t.created);
  });
});
