import { describe, expect, it } from "vitest";
import { keyOf } from "../src/base/keys.ts";
import {
  matchItems as match,
  NOT_REPORTED_MESSAGE,
  toBatchResult,
} from "../src/transport/results.ts";

/** The items of a match (the count of ignored entries is asserted where it matters). */
const matchItems = (...args: Parameters<typeof match>) => match(...args).items;

const entry = (
  id: Record<string, unknown>,
  status: number,
  body = status === 201 ? "Created" : "Updated",
) => ({
  id: Object.entries(id).map(([key, value]) => ({ key, value })),
  status,
  body,
});

describe("matchItems", () => {
  const records = [
    { tolerance_Key: 1, tolerance1: 1 },
    { tolerance_Key: 2, tolerance1: 2 },
    { tolerance_Key: 3, tolerance1: 3 },
  ];

  it("matches by key regardless of order, key-name case and int vs string values", () => {
    const data = [
      entry({ Tolerance_Key: "3" }, 500, "Conversion failed"),
      entry({ TOLERANCE_KEY: 1 }, 201),
      entry({ tolerance_key: "2" }, 200),
    ];
    const items = matchItems(records, ["tolerance_Key"], data);
    expect(items).toEqual([
      { index: 0, key: { tolerance_Key: 1 }, status: 201, outcome: "created", message: "Created" },
      { index: 1, key: { tolerance_Key: 2 }, status: 200, outcome: "updated", message: "Updated" },
      {
        index: 2,
        key: { tolerance_Key: 3 },
        status: 500,
        outcome: "failed",
        message: "Conversion failed",
      },
    ]);
  });

  it("matches composite keys", () => {
    const recs = [
      { providerCred_Key: 5, credService_Key: 1 },
      { providerCred_Key: 5, credService_Key: 2 },
    ];
    const data = [
      entry({ CredService_Key: 2, ProviderCred_Key: 5 }, 201),
      entry({ CredService_Key: 1, ProviderCred_Key: 5 }, 200),
    ];
    const items = matchItems(recs, ["providerCred_Key", "credService_Key"], data);
    expect(items.map((i) => i.outcome)).toEqual(["updated", "created"]);
    expect(items[1]?.key).toEqual({ providerCred_Key: 5, credService_Key: 2 });
  });

  it("matches duplicates of one key in order", () => {
    const recs = [{ event_ID: 7 }, { event_ID: 8 }, { event_ID: 7 }];
    const data = [
      entry({ event_ID: 7 }, 201),
      entry({ event_ID: 8 }, 201),
      entry({ event_ID: 7 }, 200),
    ];
    expect(matchItems(recs, ["event_ID"], data).map((i) => i.status)).toEqual([201, 201, 200]);
  });

  it("reports a record the server did not mention as failed with status 0, never drops it", () => {
    const items = matchItems(records, ["tolerance_Key"], [entry({ tolerance_Key: 2 }, 200)]);
    expect(items).toHaveLength(3);
    expect(items[0]).toEqual({
      index: 0,
      key: { tolerance_Key: 1 },
      status: 0,
      outcome: "failed",
      message: NOT_REPORTED_MESSAGE,
    });
    expect(items[1]?.outcome).toBe("updated");
    expect(items[2]?.status).toBe(0);
    expect(matchItems(records, ["tolerance_Key"], null).every((i) => i.status === 0)).toBe(true);
  });

  it("falls back to position when no entry has a usable key (and only then)", () => {
    const keyless = [
      { id: [], status: 201, body: "Created" },
      { id: null, status: 500, body: "boom" },
      { status: 200, body: "Updated" },
    ];
    expect(matchItems(records, ["tolerance_Key"], keyless).map((i) => i.status)).toEqual([
      201, 500, 200,
    ]);
    // A nameless pair still names the key by its value: then nothing goes by position.
    const oneKeyed = [...keyless.slice(0, 2), { id: [{ key: null, value: 3 }], status: 200 }];
    expect(matchItems(records, ["tolerance_Key"], oneKeyed).map((i) => i.status)).toEqual([
      0, 0, 200,
    ]);
  });

  it("never reports a record saved on the strength of an entry naming another key", () => {
    const two = records.slice(0, 2);
    // [key 1, key 999]: record 2 was not reported; position must not rescue it.
    const foreign = match(
      two,
      ["tolerance_Key"],
      [entry({ tolerance_Key: 1 }, 201), entry({ tolerance_Key: 999 }, 201)],
    );
    expect(foreign.items.map((i) => [i.outcome, i.status])).toEqual([
      ["created", 201],
      ["failed", 0],
    ]);
    expect(foreign.items[1]?.message).toBe(NOT_REPORTED_MESSAGE);
    expect(foreign.unmatchedEntries).toBe(1);
    // [key 999] alone: nothing is reported saved.
    const alone = match(two, ["tolerance_Key"], [entry({ tolerance_Key: 999 }, 201)]);
    expect(alone.items.map((i) => i.outcome)).toEqual(["failed", "failed"]);
    expect(alone.unmatchedEntries).toBe(1);
    // [key 1, key 1]: the duplicate does not stand in for record 2.
    const dup = match(
      two,
      ["tolerance_Key"],
      [entry({ tolerance_Key: 1 }, 201), entry({ tolerance_Key: 1 }, 200)],
    );
    expect(dup.items.map((i) => [i.outcome, i.status])).toEqual([
      ["created", 201],
      ["failed", 0],
    ]);
    expect(dup.unmatchedEntries).toBe(1);
  });

  it("matches by position only when no entry carries a key and the counts agree", () => {
    const keyless = [{ status: 201, body: "Created" }];
    expect(
      matchItems(records.slice(0, 2), ["tolerance_Key"], keyless).map((i) => i.status),
    ).toEqual([0, 0]);
    // One keyed entry among keyless ones: the keyless ones cannot be attributed.
    const mixed = [entry({ tolerance_Key: 1 }, 201), { status: 201, body: "Created" }];
    expect(matchItems(records.slice(0, 2), ["tolerance_Key"], mixed).map((i) => i.status)).toEqual([
      201, 0,
    ]);
  });

  it("keeps a long per-record message whole (the caller cleans it of secrets, then cuts it)", () => {
    const items = matchItems(
      records.slice(0, 1),
      ["tolerance_Key"],
      [entry({ tolerance_Key: 1 }, 400, "x".repeat(5_000))],
    );
    expect(items[0]?.message).toBe("x".repeat(5_000));
  });

  it("uses the caller's indices and counts outcomes", () => {
    const items = matchItems(
      records.slice(1),
      ["tolerance_Key"],
      [entry({ tolerance_Key: 2 }, 201)],
      {
        indices: [4, 9],
      },
    );
    expect(items.map((i) => i.index)).toEqual([4, 9]);
    const result = toBatchResult(items, "act");
    expect(result).toMatchObject({ succeeded: 1, failed: 1, activityId: "act" });
  });

  it("keyOf picks the key fields only", () => {
    expect(keyOf({ a: 1, b: "x", c: 3 }, ["a", "b"])).toEqual({ a: 1, b: "x" });
  });
});

describe("matchItems (property)", () => {
  it("gives every record its own entry, whatever the order, key-name case and value types", async () => {
    const fc = (await import("fast-check")).default;
    const recordsArb = fc.array(
      fc.record({ a: fc.integer({ min: 0, max: 5 }), b: fc.integer({ min: 0, max: 3 }) }),
      { maxLength: 30 },
    );
    fc.assert(
      fc.property(recordsArb, fc.infiniteStream(fc.boolean()), fc.nat(), (records, flags, seed) => {
        // The server reports each record with a status that identifies the record (1000 + index).
        const entries = records.map((r, i) => {
          const upper = flags.next().value;
          const asString = flags.next().value;
          const v = (x: number) => (asString ? String(x) : x);
          return {
            id: [
              { key: upper ? "B" : "b", value: v(r.b) },
              { key: upper ? "A" : "a", value: v(r.a) },
            ],
            status: 1000 + i,
            body: `#${i}`,
          };
        });
        // Shuffle, but keep duplicates of one key in their relative order (as VBA applies them).
        const keyed = entries.map((e, i) => ({ e, i, r: (seed * (i + 7)) % 13 }));
        const groups = new Map<string, typeof keyed>();
        for (const k of keyed) {
          const key = `${records[k.i]?.a}/${records[k.i]?.b}`;
          groups.set(key, [...(groups.get(key) ?? []), k]);
        }
        const shuffled = [...groups.values()]
          .sort((x, y) => (x[0]?.r ?? 0) - (y[0]?.r ?? 0))
          .flat();
        const items = matchItems(
          records,
          ["a", "b"],
          shuffled.map((k) => k.e),
        );
        return items.every(
          (item, i) => item.index === i && item.status === 1000 + i && item.message === `#${i}`,
        );
      }),
      { numRuns: 500 },
    );
  });
});
