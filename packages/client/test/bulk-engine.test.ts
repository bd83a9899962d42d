// The engine against an in-memory fake server (no HTTP): fast enough for thousands of
// property-based scenarios. The reference-server suite is in bulk-reliability.test.ts.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { BulkInputError } from "../src/base/errors.ts";
import type { BatchItem, BatchResult, BulkReport } from "../src/base/types.ts";
import { runBulk, UNSETTLED_KEY_MESSAGE } from "../src/bulk/engine.ts";
import type { BulkDriver, DriverStats, RequestFailure, SendOutcome } from "../src/bulk/options.ts";

interface Rec {
  id: number;
  v: number;
  bad?: boolean;
}

type Fault =
  | { kind: "ok" }
  | { kind: "items"; seed: number } // some items 503/429/400/omitted
  | { kind: "whole"; status: number } // whole request fails before applying
  | { kind: "reset-after" } // applied, then the connection dropped: ambiguous
  | { kind: "reset-before" } // nothing applied, not ambiguous
  | { kind: "fatal" };

class FakeError extends Error {
  constructor(readonly failure: RequestFailure) {
    super(failure.message);
  }
}

/** A fake server + driver: stores records by id, follows a fault schedule per request. */
class Fake implements BulkDriver<Rec, { id: number }> {
  store = new Map<number, Rec>();
  writes = new Map<number, number>();
  sends = 0;
  maxInFlight = 0;
  inFlight = 0;
  /** Input index of each record object, to count how often each record was sent. */
  sentTimes = new Map<Rec, number>();
  faultsSeen = new Set<Fault["kind"]>();
  /** Whole-request statuses answered (a gateway's 502/504 leaves a request that may land later). */
  statusesSeen = new Set<number>();
  ambiguousRecords = new Set<Rec>();
  constructor(
    private readonly schedule: Fault[],
    private readonly delay = false,
  ) {}

  keyOf(record: Rec) {
    return { id: record?.id };
  }
  keyIdOf(key: { id: number }) {
    return String(key.id);
  }
  prepare(record: Rec) {
    return record.bad
      ? { ok: false as const, message: "v: must be a number" }
      : { ok: true as const, json: JSON.stringify(record) };
  }
  async send(
    records: Rec[],
    _json: string,
    _signal: AbortSignal | undefined,
    stats: DriverStats,
  ): Promise<SendOutcome> {
    stats.requests++;
    try {
      return { ok: true, result: await this.answer(records), mayHaveBeenApplied: false };
    } catch (error) {
      if (error instanceof FakeError) return { ok: false, failure: error.failure };
      throw error;
    }
  }
  private apply(record: Rec): "created" | "updated" {
    const existed = this.store.has(record.id);
    this.store.set(record.id, record);
    this.writes.set(record.id, (this.writes.get(record.id) ?? 0) + 1);
    return existed ? "updated" : "created";
  }
  private async answer(records: Rec[]): Promise<BatchResult<unknown>> {
    const fault = this.schedule[this.sends % Math.max(1, this.schedule.length)] ?? { kind: "ok" };
    this.sends++;
    this.faultsSeen.add(fault.kind);
    if (fault.kind === "whole") this.statusesSeen.add(fault.status);
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    // A request that never left the machine (reset-before: refused before sending) sent nothing.
    if (fault.kind !== "reset-before") {
      for (const r of records) this.sentTimes.set(r, (this.sentTimes.get(r) ?? 0) + 1);
    }
    try {
      if (this.delay) await new Promise((r) => setTimeout(r, Math.random() * 3));
      else await Promise.resolve();
      const base = {
        status: 0,
        retryable: true,
        mayHaveBeenApplied: false,
        fatal: false,
        aborted: false,
      };
      switch (fault.kind) {
        case "whole":
          throw new FakeError({ ...base, status: fault.status, message: `HTTP ${fault.status}` });
        case "reset-before":
          throw new FakeError({ ...base, unreachable: true, message: "connection reset" });
        case "reset-after":
          for (const r of records) {
            this.apply(r);
            this.ambiguousRecords.add(r);
          }
          throw new FakeError({ ...base, mayHaveBeenApplied: true, message: "connection reset" });
        case "fatal":
          throw new FakeError({
            ...base,
            status: 401,
            retryable: false,
            fatal: true,
            message: "HTTP 401",
          });
        default: {
          const items: BatchItem<unknown>[] = [];
          records.forEach((r, index) => {
            const roll = fault.kind === "items" ? (fault.seed * 31 + index * 17) % 10 : 9;
            if (roll === 0) return; // omitted, not applied
            if (roll === 1) {
              this.apply(r); // omitted, but applied
              this.ambiguousRecords.add(r);
              return;
            }
            if (roll === 2 || roll === 3) {
              const status = roll === 2 ? 503 : 429;
              items.push({ index, key: {}, status, outcome: "failed", message: "busy" });
              return;
            }
            if (roll === 4) {
              items.push({ index, key: {}, status: 400, outcome: "failed", message: "rejected" });
              return;
            }
            const outcome = this.apply(r);
            const status = outcome === "created" ? 201 : 200;
            items.push({ index, key: {}, status, outcome, message: outcome });
          });
          const failed = items.filter((i) => i.outcome === "failed").length;
          return { items, succeeded: items.length - failed, failed, activityId: `a${this.sends}` };
        }
      }
    } finally {
      this.inFlight--;
    }
  }
}

/** Asserts the accounting invariants; returns nothing, throws on violation. */
function checkInvariants(records: Rec[], report: BulkReport<{ id: number }>, fake: Fake) {
  expect(report.items.length).toBe(records.length);
  report.items.forEach((item, i) => {
    expect(item.index).toBe(i);
    expect(item.key).toEqual({ id: records[i]?.id });
  });
  const t = report.totals;
  expect(t.created + t.updated + t.failed + t.notAttempted).toBe(t.total);
  expect(t.total).toBe(records.length);
  const byKey = new Map<number, number[]>();
  records.forEach((r, i) => {
    const item = report.items[i];
    if (!item) throw new Error("missing item");
    // Every send was counted, and no record was sent again after it succeeded.
    expect(fake.sentTimes.get(r) ?? 0).toBe(item.attempts);
    if (r.bad) {
      expect(item.attempts).toBe(0);
      if (item.outcome !== "not_attempted")
        expect(item).toMatchObject({ outcome: "failed", status: 0 });
    }
    if (item.outcome === "failed" && fake.ambiguousRecords.has(r)) {
      expect(item.mayHaveBeenApplied).toBe(true);
      expect(item.message).toContain("may have been applied");
    }
    // Not attempted: never sent, or (held back by the run's stop) sent and surely not applied.
    if (item.outcome === "not_attempted" && item.stopped === undefined) {
      expect(item.attempts).toBe(0);
    }
    if (item.outcome === "not_attempted") expect(item.mayHaveBeenApplied).toBe(false);
    if (item.outcome === "created" || item.outcome === "updated" || item.mayHaveBeenApplied) {
      byKey.set(r.id, [...(byKey.get(r.id) ?? []), i]);
    }
    // Writes never exceed sends.
  });
  for (const [id, writes] of fake.writes) {
    const sends = records
      .filter((r) => r.id === id)
      .reduce((n, r) => n + (fake.sentTimes.get(r) ?? 0), 0);
    expect(writes).toBeLessThanOrEqual(sends);
    expect(byKey.has(id)).toBe(true); // stored => reported success or "may have been applied"
  }
  for (const [id, indexes] of byKey) {
    const last = indexes[indexes.length - 1] as number;
    const lastItem = report.items[last];
    const stored = fake.store.get(id);
    if (lastItem?.outcome === "created" || lastItem?.outcome === "updated") {
      // Same-key records are applied in input order: the last success holds.
      expect(stored).toBe(records[last]);
    } else if (stored !== undefined) {
      expect(indexes.map((i) => records[i])).toContain(stored);
    }
  }
}

const recordsArb = fc
  .array(fc.record({ id: fc.integer({ min: 1, max: 25 }), v: fc.integer(), bad: fc.boolean() }), {
    maxLength: 60,
  })
  .map((list) => list.map((r) => (r.bad && r.v % 4 === 0 ? r : { id: r.id, v: r.v })));

const faultArb: fc.Arbitrary<Fault> = fc.oneof(
  { weight: 5, arbitrary: fc.constant<Fault>({ kind: "ok" }) },
  {
    weight: 3,
    arbitrary: fc.integer({ min: 0, max: 9 }).map<Fault>((seed) => ({ kind: "items", seed })),
  },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom(400, 413, 429, 500, 502, 503, 504)
      .map<Fault>((status) => ({ kind: "whole", status })),
  },
  { weight: 1, arbitrary: fc.constant<Fault>({ kind: "reset-after" }) },
  { weight: 1, arbitrary: fc.constant<Fault>({ kind: "reset-before" }) },
);

const fast = { recordRetryDelayMs: 0, progressIntervalMs: 0 };

describe("bulk engine (in-memory fake)", () => {
  it("accounts for every record exactly once under random faults (property)", async () => {
    await fc.assert(
      fc.asyncProperty(
        recordsArb,
        fc.array(faultArb, { minLength: 1, maxLength: 12 }),
        fc.integer({ min: 1, max: 7 }),
        // undefined: the adaptive concurrency (the fake states no rate limit).
        fc.option(fc.integer({ min: 1, max: 4 }), { nil: undefined }),
        fc.integer({ min: 0, max: 3 }),
        fc.boolean(),
        async (records, schedule, chunkSize, concurrency, maxRecordRetries, asStream) => {
          const fake = new Fake(schedule);
          async function* stream() {
            yield* records;
          }
          const report = await Promise.race([
            runBulk(fake, asStream ? stream() : records, {
              ...fast,
              chunkSize,
              concurrency,
              maxRecordRetries,
            }),
            new Promise<never>((_, reject) => setTimeout(() => reject(new Error("HANG")), 2000)),
          ]);
          // A stopped run reports a stream's records read so far (an array's, all of them).
          const stopped = fake.faultsSeen.has("reset-before") && asStream;
          checkInvariants(stopped ? records.slice(0, report.items.length) : records, report, fake);
          expect(fake.maxInFlight).toBeLessThanOrEqual(concurrency ?? 8);
          // Halves of a batch refused as a whole (400, 413) are extra sends, not retries: at
          // most one per halving, in each of the record's rounds.
          const halvings = Math.ceil(Math.log2(chunkSize));
          // A request that never left the machine after the client's retries is not re-sent
          // record by record: the run stops there, its rest not attempted (never otherwise).
          const unreachable = fake.faultsSeen.has("reset-before");
          // After the run's first answer, a request that never left re-sends its records at least
          // once, also with maxRecordRetries 0 (documented; found by this property: [1, 3] refused
          // whole with 400, its half [1] never left, then re-sent: 3 sends).
          const resends = unreachable ? Math.max(1, maxRecordRetries) : maxRecordRetries;
          for (const item of report.items) {
            expect(item.attempts).toBeLessThanOrEqual((resends + 1) * (1 + halvings));
            // Held back behind an earlier record of its key whose request may still be applied
            // (a reset after sending): never sent, and only ever behind such a record.
            if (item.message === UNSETTLED_KEY_MESSAGE) {
              expect(item).toMatchObject({ outcome: "not_attempted", attempts: 0 });
              const id = (records[item.index] as { id: number }).id;
              expect(records.slice(0, item.index).some((r) => r.id === id)).toBe(true);
              const mayLandLate =
                fake.faultsSeen.has("reset-after") ||
                fake.statusesSeen.has(502) ||
                fake.statusesSeen.has(504);
              expect(mayLandLate).toBe(true);
              continue;
            }
            if (!unreachable) expect(item.outcome).not.toBe("not_attempted");
            if (item.outcome === "not_attempted" && !item.message.startsWith("invalid")) {
              expect(item.message).toContain("the server could not be reached");
              expect(item.stopped).toBe("unreachable");
            }
          }
          expect(report.requests).toBe(fake.sends);
        },
      ),
      {
        numRuns: 1500,
        examples: [
          [
            [
              { id: 1, v: 0 },
              { id: 3, v: 0 },
              { id: 2, v: 0 },
            ],
            [{ kind: "whole", status: 400 }, { kind: "reset-before" }],
            2,
            undefined,
            0,
            true,
          ],
        ],
      },
    );
  });

  it("stops on a fatal failure and reports the rest as not attempted", async () => {
    await fc.assert(
      fc.asyncProperty(
        recordsArb,
        fc.array(faultArb, { maxLength: 4 }),
        async (records, prefix) => {
          const fake = new Fake([...prefix, { kind: "fatal" }]);
          const report = await runBulk(fake, records, { ...fast, chunkSize: 3, concurrency: 2 });
          checkInvariants(records, report, fake);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("resolves with a full report when aborted (array input)", async () => {
    await fc.assert(
      fc.asyncProperty(recordsArb, fc.integer({ min: 0, max: 8 }), async (records, abortAfter) => {
        const fake = new Fake([{ kind: "ok" }], true);
        const controller = new AbortController();
        const send = fake.send.bind(fake);
        fake.send = async (recs, ...rest) => {
          if (fake.sends >= abortAfter) controller.abort();
          return send(recs, ...rest);
        };
        const report = await runBulk(fake, records, {
          ...fast,
          chunkSize: 2,
          concurrency: 2,
          signal: controller.signal,
        });
        checkInvariants(records, report, fake);
      }),
      { numRuns: 200 },
    );
  });

  it("an already aborted signal sends nothing and reports every array record not attempted", async () => {
    const records: Rec[] = Array.from({ length: 7 }, (_, i) => ({ id: i, v: i }));
    const fake = new Fake([{ kind: "ok" }]);
    const report = await runBulk(fake, records, { ...fast, signal: AbortSignal.abort() });
    expect(fake.sends).toBe(0);
    expect(report.totals).toMatchObject({ total: 7, notAttempted: 7 });
    expect(report.requests).toBe(0);
  });

  it("an abort while reading keeps every array record at its own index", async () => {
    const records: Rec[] = Array.from({ length: 9 }, (_, i) => ({ id: 100 + i, v: i }));
    const fake = new Fake([{ kind: "ok" }]);
    const controller = new AbortController();
    const keyOf = fake.keyOf.bind(fake);
    fake.keyOf = (record) => {
      if (record.v === 3) controller.abort();
      return keyOf(record);
    };
    const report = await runBulk(fake, records, {
      ...fast,
      chunkSize: 2,
      signal: controller.signal,
    });
    checkInvariants(records, report, fake);
    expect(report.items[3]).toMatchObject({ outcome: "not_attempted", key: { id: 103 } });
  });

  it("the report detects broken accounting", async () => {
    // A driver that reports a record at the wrong position must be caught by the invariants.
    const records: Rec[] = [
      { id: 1, v: 1 },
      { id: 2, v: 2 },
    ];
    const fake = new Fake([{ kind: "ok" }]);
    const report = await runBulk(fake, records, fast);
    const broken = { ...report, items: [report.items[0], report.items[0]] } as typeof report;
    expect(() => checkInvariants(records, broken, fake)).toThrow();
  });

  it("applies same-key records in input order and never two in one chunk", async () => {
    const records: Rec[] = Array.from({ length: 30 }, (_, i) => ({ id: i % 3, v: i }));
    const fake = new Fake([{ kind: "ok" }], true);
    const seen: number[][] = [];
    const send = fake.send.bind(fake);
    fake.send = async (recs, ...rest) => {
      seen.push(recs.map((r) => r.id));
      return send(recs, ...rest);
    };
    const report = await runBulk(fake, records, { ...fast, chunkSize: 10, concurrency: 4 });
    for (const ids of seen) expect(new Set(ids).size).toBe(ids.length);
    expect([...fake.store.values()].map((r) => r.v).sort((a, b) => a - b)).toEqual([27, 28, 29]);
    expect(report.totals.created).toBe(3);
    expect(report.totals.updated).toBe(27);
  });

  it("rejects with BulkInputError carrying the report when the input throws", async () => {
    async function* broken() {
      yield { id: 1, v: 1 };
      yield { id: 2, v: 2 };
      throw new Error("parse error at line 3");
    }
    const fake = new Fake([{ kind: "ok" }]);
    const error = await runBulk(fake, broken(), { ...fast, chunkSize: 1 }).catch((e) => e);
    expect(error).toBeInstanceOf(BulkInputError);
    const report = (error as BulkInputError<{ id: number }>).report;
    expect(report.totals.total).toBe(2);
    expect(report.totals.created + report.totals.notAttempted).toBe(2);
  });

  it("emits throttled progress and a final snapshot", async () => {
    const records: Rec[] = Array.from({ length: 100 }, (_, i) => ({ id: i, v: i }));
    const fake = new Fake([{ kind: "ok" }], true);
    const snapshots: { done: number; total: number | undefined }[] = [];
    await runBulk(fake, records, {
      chunkSize: 5,
      concurrency: 2,
      onProgress: (p) => snapshots.push(p),
      progressIntervalMs: 1_000_000,
    });
    expect(snapshots.length).toBe(2); // leading edge + final
    expect(snapshots.at(-1)).toMatchObject({ done: 100, total: 100, inFlight: 0 });
  });

  it("progressIntervalMs must be a number of milliseconds (Infinity: the first and the last)", async () => {
    const calls: number[] = [];
    await runBulk(
      new Fake([{ kind: "ok" }], true),
      [
        { id: 1, v: 1 },
        { id: 2, v: 2 },
      ],
      {
        progressIntervalMs: Number.POSITIVE_INFINITY,
        onProgress: (p) => calls.push(p.done),
      },
    );
    expect(calls.at(-1)).toBe(2);
    for (const value of [Number.NaN, "100" as never]) {
      const fake = new Fake([{ kind: "ok" }], true);
      await expect(runBulk(fake, [{ id: 1, v: 1 }], { progressIntervalMs: value })).rejects.toThrow(
        /upsertAll: progressIntervalMs must be a number of milliseconds/,
      );
      expect(fake.sentTimes.size).toBe(0);
    }
  });
});
