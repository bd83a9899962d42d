// Each record is serialized when it is read and checked, on its own: what is sent is the record as
// checked, whatever happens to the object afterwards. Over real HTTP against the reference server:
// a record that cannot be serialized fails alone, a generator or an array Proxy that reuses one
// object sends each value it gave, a record changed by the caller after its check (from onRecord,
// while it waits behind an earlier record with its key) is sent as checked, a polluted
// Array.prototype.toJSON changes nothing, chunks are cut at the byte limit exactly where each
// record's own size puts the cut, and a re-sent record carries its exact first JSON. (Serializing
// a whole chunk at once, later, was tried and reverted: the review's repros below are why.)
import { type MockServer, startMockServer } from "@vbapi-sdk/mock-server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { upsertAll } from "../src/bulk/index.ts";
import type { EntityRecord } from "../src/generated/entities.ts";
import { serverClient } from "./helpers.ts";

type Tolerance = EntityRecord<"Tolerance">;

let server: MockServer;
let dbCounter = 0;
beforeAll(async () => {
  server = await startMockServer({ rateLimit: false });
});
afterAll(async () => {
  await server?.close();
});

/** A client whose fetch records each request body it sends (the real fetch sends it). */
function client(database: string) {
  const bodies: string[] = [];
  const c = serverClient(server, {
    database,
    maxRetries: 0,
    rateLimit: false,
    fetch: (input, init) => {
      if (typeof init?.body === "string") bodies.push(init.body);
      return fetch(input, init);
    },
  });
  return { c, bodies };
}
const stored = (db: string) =>
  server.store
    .list(db, "Tolerance")
    .map((r) => r.body)
    .sort((a, b) => (a.tolerance_Key as number) - (b.tolerance_Key as number));

/** Text a JSON splitter must not trip on: quotes, backslashes, brackets, U+2028, non-BMP. */
const HOSTILE = ['a"b', "c\\", '}],[{,"', "\u2028\u2029", "😀é\u0000", '\\"],', "{[", ""];

describe("what is sent is each record as read and checked, over real HTTP", () => {
  it("a record that cannot be serialized (its getter throws after validation) fails alone; the rest are stored", async () => {
    const db = `seal${++dbCounter}`;
    const { c } = client(db);
    let reads = 0;
    const bad = {
      tolerance_Key: 2,
      get tolerance1(): number {
        // Validation reads it once; serializing it throws, with text that must not be shown.
        if (++reads > 1) throw new Error("SECRET-from-getter");
        return 1.5;
      },
    };
    const records = [{ tolerance_Key: 1, tolerance1: 1 }, bad, { tolerance_Key: 3, tolerance1: 3 }];
    const report = await upsertAll(c, "Tolerance", records as Tolerance[]);
    expect(report.items.map((i) => i.outcome)).toEqual(["created", "failed", "created"]);
    expect(report.items[1]?.message).toMatch(/could not be serialized/);
    expect(JSON.stringify(report)).not.toContain("SECRET-from-getter");
    expect(stored(db).map((r) => r.tolerance_Key)).toEqual([1, 3]);
  });

  it("a generator that reuses one object: each record is sent with the values it had when yielded", async () => {
    const db = `seal${++dbCounter}`;
    const { c } = client(db);
    function* reused() {
      const record: Tolerance = { tolerance_Key: 0, tolerance1: 0 };
      for (let i = 1; i <= 50; i++) {
        record.tolerance_Key = i;
        record.tolerance1 = i / 2;
        yield record;
      }
    }
    const report = await upsertAll(c, "Tolerance", reused());
    expect(report.totals.created).toBe(50);
    expect(stored(db)).toEqual(
      Array.from({ length: 50 }, (_, i) => ({ tolerance_Key: i + 1, tolerance1: (i + 1) / 2 })),
    );
  });

  it("a record changed by the caller after its check is sent as checked (it waited behind its key)", async () => {
    const db = `seal${++dbCounter}`;
    const { c, bodies } = client(db);
    const records = [
      { tolerance_Key: 1, tolerance1: 1 },
      { tolerance_Key: 1, tolerance1: 2 }, // same key as record 0: sent after it settles
      { tolerance_Key: 2, tolerance1: 3 },
    ];
    let changed = false;
    const report = await upsertAll(c, "Tolerance", records, {
      recordRetryDelayMs: 1,
      onRecord: (item) => {
        if (item.index === 0 && !changed) {
          changed = true;
          // The caller's own code, while the run goes on: a new key and a value that is invalid.
          (records[1] as { tolerance_Key: number; tolerance1: unknown }).tolerance_Key = 2;
          (records[1] as { tolerance1: unknown }).tolerance1 = "not a number";
        }
      },
    });
    expect(changed).toBe(true);
    expect(report.items.map((i) => i.outcome)).toEqual(["created", "updated", "created"]);
    expect(bodies.join("")).not.toContain("not a number");
    expect(stored(db)).toEqual([
      { tolerance_Key: 1, tolerance1: 2 },
      { tolerance_Key: 2, tolerance1: 3 },
    ]);
  });

  it("an array Proxy that reuses one row object: each record is sent with the values it had when read", async () => {
    const db = `seal${++dbCounter}`;
    const { c } = client(db);
    const columns = { key: [1, 2, 3, 4], value: [10, 20, 30, 40] };
    const row: { tolerance_Key?: number; tolerance1?: number } = {};
    const rows = new Proxy(new Array(4).fill(0), {
      get(target, p, receiver) {
        if (typeof p === "string" && /^\d+$/.test(p)) {
          const i = Number(p);
          row.tolerance_Key = columns.key[i];
          row.tolerance1 = columns.value[i];
          return row;
        }
        return Reflect.get(target, p, receiver);
      },
    }) as Tolerance[];
    const report = await upsertAll(c, "Tolerance", rows);
    expect(report.totals.created).toBe(4);
    expect(stored(db)).toEqual(
      columns.key.map((k, i) => ({ tolerance_Key: k, tolerance1: columns.value[i] })),
    );
  });

  it("a polluted Array.prototype.toJSON changes nothing that is sent", async () => {
    const db = `seal${++dbCounter}`;
    const proto = Array.prototype as { toJSON?: () => unknown };
    const polluted = () => "polluted";
    // The reference server runs in this process: it answers with the global clean, so only the
    // client's serialization sees the polluted one (one request at a time).
    const bodies: string[] = [];
    const c = serverClient(server, {
      database: db,
      rateLimit: false,
      fetch: async (input, init) => {
        if (typeof init?.body === "string") bodies.push(init.body);
        delete proto.toJSON;
        try {
          return await fetch(input, init);
        } finally {
          proto.toJSON = polluted;
        }
      },
    });
    const records = Array.from({ length: 20 }, (_, i) => ({ tolerance_Key: i, tolerance1: i }));
    proto.toJSON = polluted;
    try {
      const report = await upsertAll(c, "Tolerance", records, { chunkSize: 5, concurrency: 1 });
      expect(report.totals.created).toBe(20);
    } finally {
      delete proto.toJSON;
    }
    expect(bodies).toHaveLength(4);
    expect(bodies.join("")).not.toContain("polluted");
    expect(stored(db)).toEqual(records);
  });

  it("cuts chunks at maxChunkBytes exactly where each record's own size puts the cut", async () => {
    const db = `seal${++dbCounter}`;
    const { c, bodies } = client(db);
    // Sizes vary, with multi-byte text (UTF-8 bytes, not string length, are what count).
    const text = (i: number) => "é😀xy".repeat(1 + (i % 5)).slice(0, 3 + ((i * 7) % 17));
    const records = Array.from({ length: 300 }, (_, i) => ({
      tolerance_Key: i,
      tolerance1: i / 3,
      group_ID: text(i),
      entry_User: text(i + 1),
      payment_Method: HOSTILE[i % HOSTILE.length] ?? null,
    }));
    const maxChunkBytes = 2_000;
    const report = await upsertAll(c, "Tolerance", records, { maxChunkBytes });
    expect(report.totals.created).toBe(300);
    // The cut a per-record serialization gives: 2 bytes of brackets, one comma between records.
    const expected: number[] = [];
    let size = 0;
    let bytes = 2;
    for (const r of records) {
      const own = Buffer.byteLength(JSON.stringify(r));
      if (size > 0 && (size === 500 || bytes + 1 + own > maxChunkBytes)) {
        expected.push(size);
        size = 0;
        bytes = 2;
      }
      bytes += (size > 0 ? 1 : 0) + own;
      size++;
    }
    expected.push(size);
    expect(bodies.map((b) => (JSON.parse(b) as unknown[]).length)).toEqual(expected);
    for (const body of bodies) expect(Buffer.byteLength(body)).toBeLessThanOrEqual(maxChunkBytes);
    expect(stored(db)).toEqual(records);
  });

  it("a record answered 503 is re-sent with exactly the JSON it was first sent with (hostile strings)", async () => {
    const db = `seal${++dbCounter}`;
    const { c, bodies } = client(db);
    const records = HOSTILE.map((s, i) => ({ tolerance_Key: i, tolerance1: i, group_ID: s }));
    const target = { database: db };
    server.faults.failRecords({ keys: [{ tolerance_Key: 2 }], status: 503, count: 1, target });
    server.faults.failRecords({ keys: [{ tolerance_Key: 5 }], status: 503, count: 1, target });
    const report = await upsertAll(c, "Tolerance", records, { recordRetryDelayMs: 1 });
    expect(report.totals.created).toBe(HOSTILE.length);
    expect(bodies).toHaveLength(2);
    const resent = JSON.parse(bodies[1] as string) as unknown[];
    expect(resent).toEqual([records[2], records[5]]);
    expect(bodies[1]).toBe(`[${JSON.stringify(records[2])},${JSON.stringify(records[5])}]`);
    expect(stored(db)).toEqual(records);
  });

  it("an abort partway through a large array: every record is accounted for", async () => {
    const db = `seal${++dbCounter}`;
    const { c } = client(db);
    const records = Array.from({ length: 5_000 }, (_, i) => ({ tolerance_Key: i, tolerance1: i }));
    const controller = new AbortController();
    let settled = 0;
    const report = await upsertAll(c, "Tolerance", records, {
      chunkSize: 100,
      concurrency: 1,
      signal: controller.signal,
      onRecord: () => {
        if (++settled === 250) controller.abort();
      },
    });
    expect(report.items).toHaveLength(5_000);
    expect(report.items.map((i) => i.index)).toEqual(records.map((_, i) => i));
    const saved = report.items.filter((i) => i.outcome === "created").length;
    expect(saved).toBe(stored(db).length);
    expect(saved).toBeGreaterThanOrEqual(250);
    expect(saved).toBeLessThan(5_000);
  });
});
