import { describe, expect, it } from "vitest";
import { BulkAccountingError, ConfigurationError } from "../src/base/errors.ts";
import {
  ChunkBuilder,
  chunkRecords,
  normalizeLimits,
  serializedBytes,
  utf8Length,
} from "../src/bulk/chunker.ts";
import { BulkLedger, MAY_HAVE_BEEN_APPLIED } from "../src/bulk/ledger.ts";
import { retrySettings } from "../src/bulk/options.ts";
import { RetryQueue } from "../src/bulk/retry-queue.ts";
import { openSource } from "../src/bulk/source.ts";

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

describe("source", () => {
  it("reads arrays, iterables and async iterables lazily", async () => {
    const pulled: number[] = [];
    function* gen() {
      for (let i = 0; i < 3; i++) {
        pulled.push(i);
        yield i;
      }
    }
    const source = openSource(gen());
    expect(source.knownLength).toBeUndefined();
    expect(pulled).toEqual([]);
    expect(await source.next()).toEqual({ done: false, value: 0 });
    expect(pulled).toEqual([0]);
    await source.close();
    expect(await source.next()).toMatchObject({ done: true });
    expect(openSource([1, 2]).knownLength).toBe(2);
    async function* agen() {
      yield "a";
    }
    const asyncSource = openSource(agen());
    expect(await asyncSource.next()).toEqual({ done: false, value: "a" });
    expect(await asyncSource.next()).toMatchObject({ done: true });
    expect(() => openSource(42 as unknown as number[])).toThrow(TypeError);
  });
});

describe("chunker", () => {
  it("measures UTF-8 bytes like Buffer does", () => {
    for (const text of ["", "abc", "é", "€", "😀", "a😀b\ud800c"]) {
      expect(utf8Length(text)).toBe(Buffer.byteLength(text, "utf8"));
    }
    expect(serializedBytes({ a: "é" })).toBe(Buffer.byteLength('{"a":"é"}'));
  });

  it("splits by record count", async () => {
    const chunks = await collect(chunkRecords([1, 2, 3, 4, 5, 6, 7], { chunkSize: 3 }));
    expect(chunks).toEqual([[1, 2, 3], [4, 5, 6], [7]]);
  });

  it("splits by serialized bytes, body size never above the limit", async () => {
    const records = Array.from({ length: 50 }, (_, i) => ({ id: i, pad: "x".repeat(i % 7) }));
    const maxChunkBytes = 80;
    const chunks = await collect(chunkRecords(records, { chunkSize: 100, maxChunkBytes }));
    expect(chunks.flat()).toEqual(records);
    for (const chunk of chunks) {
      expect(Buffer.byteLength(JSON.stringify(chunk))).toBeLessThanOrEqual(maxChunkBytes);
    }
    // Greedy: adding the next record's bytes to a chunk would exceed the limit.
    for (let i = 0; i + 1 < chunks.length; i++) {
      const next = chunks[i + 1]?.[0];
      expect(Buffer.byteLength(JSON.stringify([...(chunks[i] ?? []), next]))).toBeGreaterThan(
        maxChunkBytes,
      );
    }
  });

  it("sends a record larger than maxChunkBytes alone", async () => {
    const big = { id: 1, pad: "y".repeat(200) };
    const chunks = await collect(
      chunkRecords([{ id: 0 }, big, { id: 2 }], { chunkSize: 10, maxChunkBytes: 50 }),
    );
    expect(chunks).toEqual([[{ id: 0 }], [big], [{ id: 2 }]]);
  });

  it("pulls at most one chunk plus one record ahead", async () => {
    let pulled = 0;
    async function* gen() {
      for (let i = 0; i < 1000; i++) {
        pulled++;
        yield i;
      }
    }
    let consumed = 0;
    for await (const chunk of chunkRecords(gen(), { chunkSize: 10 })) {
      consumed += chunk.length;
      expect(pulled - consumed).toBeLessThanOrEqual(1);
    }
    expect(consumed).toBe(1000);
  });

  it("builder enforces both limits and rejects nonsense limits", () => {
    const builder = new ChunkBuilder<number>({ chunkSize: 2, maxChunkBytes: 10 });
    expect(builder.fits(100)).toBe(true);
    builder.add(1, 4);
    expect(builder.bytes).toBe(6);
    expect(builder.fits(4)).toBe(false);
    expect(builder.fits(3)).toBe(true);
    builder.add(2, 3);
    expect(builder.bytes).toBe(10);
    expect(builder.full).toBe(true);
    expect(builder.fits(0)).toBe(false);
    expect(() => normalizeLimits({ chunkSize: 0 })).toThrow(ConfigurationError);
    expect(() => normalizeLimits({ maxChunkBytes: Number.NaN })).toThrow(ConfigurationError);
    expect(normalizeLimits()).toEqual({ chunkSize: 500, maxChunkBytes: 1024 * 1024 });
  });

  it("delay options must be finite and fit a timer: NaN, Infinity or past 2^31 - 1 ms is a ConfigurationError naming the option", () => {
    // NaN was taken as is: every re-send went out at once, without backoff; past 2^31 - 1 ms a
    // timer fires after 1 ms.
    for (const name of ["recordRetryDelayMs", "lingerMs"] as const) {
      for (const value of [Number.NaN, Number.POSITIVE_INFINITY, 2 ** 31, "100" as never]) {
        expect(() => retrySettings({ [name]: value })).toThrow(
          new ConfigurationError(
            `upsertAll: ${name} must be a finite number of milliseconds, at most 2147483647 (about 24.8 days, the longest timer)`,
          ),
        );
      }
    }
    // Below 0 counts as 0, as before.
    expect(retrySettings({ recordRetryDelayMs: -5, lingerMs: -1 })).toMatchObject({
      retryDelayMs: 0,
      lingerMs: 0,
    });
  });
});

describe("ledger", () => {
  const stats = { requests: 1, retries: 0, rateLimited: 0, activityIds: [], elapsedMs: 1 };

  it("finalizes every record exactly once and counts outcomes", () => {
    const ledger = new BulkLedger<{ id: number }>();
    for (let i = 0; i < 4; i++) ledger.register(i, { id: i });
    ledger.attempt(0);
    ledger.succeed(0, "created", 201, "Created");
    ledger.attempt(1);
    ledger.succeed(1, "updated", 200, "Updated");
    ledger.attempt(2);
    ledger.fail(2, 400, "bad");
    ledger.skip(3, "not sent");
    expect(() => ledger.succeed(0, "created", 201, "Created")).toThrow(BulkAccountingError);
    const report = ledger.build(stats);
    expect(report.totals).toEqual({
      total: 4,
      created: 1,
      updated: 1,
      failed: 1,
      notAttempted: 1,
    });
    expect(report.items.map((i) => i.outcome)).toEqual([
      "created",
      "updated",
      "failed",
      "not_attempted",
    ]);
  });

  it("refuses to build while a record is open, or out-of-order registration", () => {
    const ledger = new BulkLedger();
    ledger.register(0, {});
    expect(() => ledger.build(stats)).toThrow(BulkAccountingError);
    expect(() => ledger.register(5, {})).toThrow(BulkAccountingError);
  });

  it("keeps the ambiguity flag sticky and says so in the message", () => {
    const ledger = new BulkLedger();
    ledger.register(0, {});
    ledger.register(1, {});
    ledger.register(2, {});
    ledger.attempt(0);
    ledger.markMayHaveBeenApplied(0);
    ledger.fail(0, 400, "rejected");
    ledger.attempt(1);
    ledger.markMayHaveBeenApplied(1);
    ledger.succeed(1, "updated", 200, "Updated");
    ledger.attempt(2);
    ledger.note(2, 503, "busy");
    ledger.skip(2, "not sent: the run was aborted");
    const [a, b, c] = ledger.build(stats).items;
    expect(a?.mayHaveBeenApplied).toBe(true);
    expect(a?.message).toContain(MAY_HAVE_BEEN_APPLIED);
    expect(b?.mayHaveBeenApplied).toBe(false);
    // Attempted then skipped: failed with the last status, not "not_attempted".
    expect(c).toMatchObject({ outcome: "failed", status: 503, attempts: 1 });
  });
});

describe("retry queue", () => {
  it("takes ready records in order, stops at the first refused one", () => {
    const queue = new RetryQueue<string>();
    queue.push("a", 0);
    queue.push("b", 100);
    queue.push("c", 0);
    queue.push("d", 0);
    expect(queue.nextReadyAt()).toBe(0);
    expect(queue.take(10, () => true)).toEqual(["a", "c", "d"]);
    expect(queue.size).toBe(1);
    expect(queue.nextReadyAt()).toBe(100);
    queue.push("e", 0);
    queue.push("f", 0);
    let n = 0;
    expect(queue.take(200, () => n++ < 1)).toEqual(["b"]);
    expect(queue.drain()).toEqual(["e", "f"]);
    expect(queue.size).toBe(0);
  });
});
