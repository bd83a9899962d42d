// Property-based reliability: random inputs (duplicate keys, invalid records, sizes) and random
// fault schedules against the reference server over real HTTP, checked against its store.
import { type FaultSpec, type MockServer, startMockServer } from "@vbapi-sdk/mock-server";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { UNSETTLED_KEY_MESSAGE } from "../src/bulk/engine.ts";
import { upsertAllTolerances } from "../src/bulk/index.ts";
import { createVbapiClient } from "../src/client/client.ts";
import type { EntityRecord } from "../src/generated/entities.ts";

type Tolerance = EntityRecord<"Tolerance">;

/** `list[i]`, failing the test when it is missing. */
function at<T>(list: readonly T[], i: number): T {
  const value = list[i];
  if (value === undefined) throw new Error(`no element at ${i}`);
  return value;
}

let server: MockServer;
let scenario = 0;
let requestsTotal = 0;

beforeAll(async () => {
  server = await startMockServer({ rateLimit: false });
});
afterAll(async () => {
  await server?.close();
});

const recordArb: fc.Arbitrary<Tolerance> = fc
  .record({
    key: fc.integer({ min: 1, max: 30 }),
    amount: fc.integer({ min: -1000, max: 1000 }),
    group: fc.option(fc.string({ maxLength: 4 }), { nil: undefined }),
    invalid: fc.constantFrom(false, false, false, false, false, false, false, true),
  })
  .map(({ key, amount, group, invalid }) => {
    const record: Record<string, unknown> = { tolerance_Key: key, tolerance1: amount / 4 };
    if (group !== undefined) record.group_ID = group;
    if (invalid) record.group_ID = "G".repeat(21); // maxLength 20
    return record as Tolerance;
  });

const keysArb = fc
  .uniqueArray(fc.integer({ min: 1, max: 30 }), { minLength: 1, maxLength: 6 })
  .map((keys) => keys.map((k) => ({ tolerance_Key: k })));

/** Faults without their target (each scenario targets its own database). */
const faultArb: fc.Arbitrary<FaultSpec> = fc.oneof(
  fc.record({
    type: fc.constant("status" as const),
    status: fc.constantFrom(429, 500, 502, 503, 504),
    count: fc.integer({ min: 1, max: 3 }),
    retryAfter: fc.option(fc.constant(0), { nil: undefined }),
  }),
  fc.record({
    type: fc.constant("reset-connection" as const),
    phase: fc.constantFrom("before-apply" as const, "after-apply" as const),
    count: fc.integer({ min: 1, max: 2 }),
  }),
  fc.record({
    type: fc.constant("bad-body" as const),
    body: fc.constantFrom("truncated" as const, "non-json" as const),
    count: fc.constant(1),
  }),
  fc.record({
    type: fc.constant("fail-records" as const),
    keys: keysArb,
    status: fc.constantFrom(400, 429, 500, 503),
    omit: fc.boolean(),
    count: fc.integer({ min: 1, max: 4 }),
  }),
  fc.record({
    type: fc.constant("omit-records" as const),
    keys: keysArb,
    count: fc.integer({ min: 1, max: 3 }),
  }),
  // A slow answer past the client's timeout (after applying): rare, it costs real time.
  fc.record({
    type: fc.constant("delay" as const),
    ms: fc.constant(45),
    count: fc.constant(1),
  }),
);

describe("upsertAll reliability (property-based, reference server)", () => {
  it("accounts for every record exactly once and matches the server's store", async () => {
    const started = performance.now();
    await fc.assert(
      fc.asyncProperty(
        fc.array(recordArb, { maxLength: 40 }),
        fc.array(faultArb, { maxLength: 5 }),
        fc.record({
          chunkSize: fc.integer({ min: 1, max: 8 }),
          concurrency: fc.integer({ min: 1, max: 4 }),
          maxRecordRetries: fc.integer({ min: 0, max: 3 }),
          clientMaxRetries: fc.integer({ min: 0, max: 2 }),
          stream: fc.boolean(),
          abortAtCall: fc.option(fc.integer({ min: 1, max: 6 }), { nil: undefined, freq: 6 }),
        }),
        async (records, faults, opts) => {
          scenario++;
          const database = `p${scenario}`;
          server.faults.clear();
          for (const fault of faults) server.faults.add({ ...fault, target: { database } });
          const client = createVbapiClient({
            baseUrl: server.url,
            apiKey: server.credentials.apiKey,
            token: server.credentials.token,
            database,
            timeoutMs: 25,
            maxRetries: opts.clientMaxRetries,
            backoff: { initialDelayMs: 0, maxDelayMs: 0, maxRetryAfterMs: 0 },
            rateLimit: false,
            logLevel: "off",
          });
          async function* stream() {
            yield* records;
          }
          // Optionally abort the run when the n-th request starts (mid-run abort).
          const controller = new AbortController();
          let calls = 0;
          const aborting: Pick<typeof client, "upsertBatch"> = {
            upsertBatch: ((entity: never, batch: never, options: never) => {
              calls++;
              if (calls === opts.abortAtCall) setTimeout(() => controller.abort(), 0);
              return client.upsertBatch(entity, batch, options);
            }) as typeof client.upsertBatch,
          };
          const report = await upsertAllTolerances(aborting, opts.stream ? stream() : records, {
            signal: controller.signal,
            chunkSize: opts.chunkSize,
            concurrency: opts.concurrency,
            maxRecordRetries: opts.maxRecordRetries,
            recordRetryDelayMs: 0,
          });
          requestsTotal += report.requests;

          // Every record exactly once, by input index.
          const aborted = controller.signal.aborted;
          if (!(aborted && opts.stream)) expect(report.items.length).toBe(records.length);
          const t = report.totals;
          expect(t.created + t.updated + t.failed + t.notAttempted).toBe(report.items.length);
          // Without an abort, a record is left unsent only behind an earlier one with its key
          // whose request was given up on without its answer (VBA may still apply it).
          if (!aborted) {
            report.items.forEach((item, i) => {
              if (item.outcome !== "not_attempted") return;
              expect(item.message).toBe(UNSETTLED_KEY_MESSAGE);
              expect(item.heldBack).toBe(true);
              const key = (records[i] as Tolerance).tolerance_Key;
              expect(records.slice(0, i).some((r) => r.tolerance_Key === key)).toBe(true);
            });
          }
          // An async generator input is not read further after an abort: only what was read.
          if (aborted && opts.stream) records = records.slice(0, report.items.length);
          const byKey = new Map<number, number[]>();
          report.items.forEach((item, i) => {
            const record = records[i] as Tolerance;
            expect(item.index).toBe(i);
            expect(item.key).toEqual({ tolerance_Key: record.tolerance_Key });
            expect(item.attempts).toBeLessThanOrEqual(opts.maxRecordRetries + 1);
            if (item.outcome === "not_attempted") expect(item.attempts).toBe(0);
            if ((record.group_ID?.length ?? 0) > 20 && item.outcome !== "not_attempted") {
              expect(item).toMatchObject({ outcome: "failed", status: 0, attempts: 0 });
              expect(item.message).toMatch(/group_ID/);
            }
            if (item.mayHaveBeenApplied) {
              expect(item.outcome).toBe("failed");
              expect(item.message).toContain("may have been applied");
            }
            byKey.set(record.tolerance_Key, [...(byKey.get(record.tolerance_Key) ?? []), i]);
          });

          for (const [key, indexes] of byKey) {
            const items = indexes.map((i) => at(report.items, i));
            const succeeded = (i: number) =>
              at(report.items, i).outcome === "created" ||
              at(report.items, i).outcome === "updated";
            const successes = indexes.filter(succeeded);
            const owned = indexes.filter(
              (i) => succeeded(i) || at(report.items, i).mayHaveBeenApplied,
            );
            const stored = server.store.get(database, "Tolerance", { tolerance_Key: key });
            if (stored === undefined) {
              // Reported created/updated => in the store.
              expect(successes).toEqual([]);
              continue;
            }
            // In the store => the report owns up to it (a success, or "may have been applied").
            expect(owned.length).toBeGreaterThan(0);
            const last = owned[owned.length - 1] as number;
            if (successes.includes(last)) {
              // Same-key records apply in input order: the last success is what is stored,
              // with exactly the content sent.
              expect(stored.body).toEqual(records[last]);
            } else {
              expect(owned.map((i) => records[i])).toContainEqual(stored.body);
            }
            // Never stored twice: a record that succeeded is not re-sent.
            const attempts = items.reduce((n, item) => n + item.attempts, 0);
            expect(stored.writes).toBeGreaterThanOrEqual(successes.length);
            expect(stored.writes).toBeLessThanOrEqual(attempts * (1 + opts.clientMaxRetries));
            if (
              opts.clientMaxRetries === 0 &&
              items.every((item) => item.attempts <= 1 && !item.mayHaveBeenApplied)
            ) {
              expect(stored.writes).toBe(successes.length);
            }
          }
          // The store holds nothing that is not in the input.
          expect(server.store.count(database, "Tolerance")).toBeLessThanOrEqual(byKey.size);
        },
      ),
      { numRuns: 400, endOnFailure: true },
    );
    server.faults.clear();
    const seconds = (performance.now() - started) / 1000;
    console.log(
      `400 fault scenarios, ${requestsTotal} requests in ${seconds.toFixed(1)} s (${Math.round(
        (seconds * 1000) / 400,
      )} ms per scenario)`,
    );
  }, 60_000);
});
