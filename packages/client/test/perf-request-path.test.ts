// The thinner request path (issue 23) keeps what it replaced: key matching without intermediate
// arrays gives what the plain algorithm gives, the per-attempt timeout leaves nothing attached,
// a record with a throwing `toJSON` getter is a ValidationError, and the cleaner of server text
// still removes every record value it contains.
import { getEventListeners } from "node:events";
import { type MockServer, startMockServer } from "@vbapi-sdk/mock-server";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { keyIdOf, keyIdOfValues, keyOf } from "../src/base/keys.ts";
import { attemptSignal } from "../src/base/timeout.ts";
import { createVbapiClient, ValidationError } from "../src/index.ts";
import { matchItems, outcomeOf } from "../src/transport/results.ts";
import { json, SECRET_KEY, scriptedFetch, testClient } from "./helpers.ts";

/** The matching rule written plainly (every id computed up front): the oracle. */
function plainMatch(records: unknown[], fields: string[], data: unknown[]) {
  const norm = (s: string) => s.toLowerCase().replace(/[^a-z0-9]/g, "");
  const keys = records.map((r) => keyOf(r, fields));
  const recordIds = keys.map((k) => keyIdOf(k as Record<string, unknown>, fields));
  const entryIds = data.map((e) => {
    const id = (e as { id?: unknown } | null)?.id;
    if (!Array.isArray(id) || id.length === 0) return undefined;
    const values: unknown[] = [];
    for (const f of fields) {
      const pair = [...id]
        .reverse()
        .find((p) => typeof p?.key === "string" && norm(p.key) === norm(f));
      if (!pair)
        return id.length === fields.length ? keyIdOfValues(id.map((p) => p?.value)) : undefined;
      values.push(pair.value);
    }
    return keyIdOfValues(values);
  });
  const assigned: unknown[] = new Array(records.length);
  let unmatched = 0;
  if (entryIds.every((id) => id === undefined)) {
    if (data.length === records.length) {
      data.forEach((e, j) => {
        if (typeof e === "object" && e !== null) assigned[j] = e;
        else unmatched++;
      });
    } else unmatched = data.length;
  } else {
    const taken = new Set<number>();
    for (let j = 0; j < data.length; j++) {
      const i = recordIds.findIndex((id, i) => !taken.has(i) && id === entryIds[j]);
      if (entryIds[j] === undefined || i < 0) unmatched++;
      else {
        taken.add(i);
        assigned[i] = data[j];
      }
    }
  }
  const items = records.map((_, i) => {
    const e = assigned[i] as { status?: unknown; body?: unknown } | undefined;
    if (e === undefined) return { key: keys[i], status: 0, outcome: "failed" };
    const status = typeof e.status === "number" ? e.status : 0;
    return { key: keys[i], status, outcome: outcomeOf(status) };
  });
  // Saved and not saved both said of a key reported more often than the request holds it, or a
  // failure naming no key in an answer longer than the request: those records are unknown.
  const isSaved = (e: unknown) => {
    const status = (e as { status?: unknown } | null)?.status;
    return typeof status === "number" && outcomeOf(status) !== "failed";
  };
  const unattributed =
    data.length > records.length &&
    data.some(
      (e, j) =>
        entryIds[j] === undefined &&
        typeof (e as { status?: unknown } | null)?.status === "number" &&
        !isSaved(e),
    );
  for (let i = 0; i < records.length; i++) {
    const said = data.filter((_, j) => entryIds[j] === recordIds[i]);
    const held = recordIds.filter((id) => id === recordIds[i]).length;
    const conflict = said.length > held && said.some(isSaved) && !said.every(isSaved);
    const savedHere = (items[i] as { outcome: string }).outcome !== "failed";
    if (conflict || (unattributed && savedHere))
      items[i] = { key: keys[i], status: 0, outcome: "failed" };
  }
  return { items, unmatched };
}

describe("matchItems without intermediate arrays", () => {
  const FIELDS = ["providerCred_Key", "credService_Key"];
  const keyArb = fc.record({
    providerCred_Key: fc.integer({ min: 1, max: 3 }),
    credService_Key: fc.integer({ min: 1, max: 4 }),
  });
  const entryArb = (k: { providerCred_Key: number; credService_Key: number }) =>
    fc.oneof(
      fc.constant({
        id: [
          { key: "ProviderCred_Key", value: k.providerCred_Key },
          { key: "credservicekey", value: String(k.credService_Key) },
        ],
        status: 201,
      }),
      fc.constant({
        id: [
          { key: "x", value: k.providerCred_Key },
          { key: "y", value: k.credService_Key },
        ],
        status: 200,
      }),
      // Keyed failures and partial ids: what the rules for contradicting answers look at.
      fc.constant({
        id: [
          { key: "providerCred_Key", value: k.providerCred_Key },
          { key: "credService_Key", value: k.credService_Key },
        ],
        status: 422,
        body: "rejected",
      }),
      fc.constant({ id: [{ key: "credService_Key", value: k.credService_Key }], status: 201 }),
      fc.constant({ id: [{ key: "providerCred_Key", value: k.providerCred_Key }], status: 500 }),
      fc.constant({ id: [], status: 201 }),
      fc.constant({ status: 500, body: "no id" }),
      fc.constant(null),
    );

  it("gives the plain algorithm's items and ignored count (composite keys, any order, duplicates, junk)", () => {
    fc.assert(
      fc.property(
        fc.array(keyArb, { maxLength: 8 }),
        fc.array(keyArb, { maxLength: 10 }).chain((ks) => fc.tuple(...ks.map(entryArb))),
        fc.boolean(),
        (records, data, inOrder) => {
          // Half the cases: the answer in request order (the fast path), then a tail by key.
          const entries = inOrder
            ? [
                ...records.map((r) => ({
                  id: [
                    { key: "providerCred_Key", value: r.providerCred_Key },
                    { key: "credService_Key", value: r.credService_Key },
                  ],
                  status: 201,
                })),
                ...data,
              ]
            : (data as unknown[]);
          const got = matchItems(records, FIELDS, entries);
          const want = plainMatch(records, FIELDS, entries);
          expect(got.unmatchedEntries).toBe(want.unmatched);
          expect(got.items.map(({ key, status, outcome }) => ({ key, status, outcome }))).toEqual(
            want.items,
          );
          expect(got.items.map((item) => item.index)).toEqual(records.map((_, i) => i));
        },
      ),
      { numRuns: 300 },
    );
  });

  it("uses the caller's indices and keys", () => {
    const records = [{ event_ID: "a" }, { event_ID: "b" }];
    const keys = [{ event_ID: "a" }, { event_ID: "b" }];
    const data = [
      { id: [{ key: "event_ID", value: "b" }], status: 200 },
      { id: [{ key: "event_ID", value: "a" }], status: 201 },
    ];
    const { items } = matchItems(records, ["event_ID"], data, { indices: [4, 9], keys });
    expect(items.map((i) => [i.index, i.key, i.outcome])).toEqual([
      [4, keys[0], "created"],
      [9, keys[1], "updated"],
    ]);
  });
});

describe("attemptSignal", () => {
  it("with no caller signal: aborts with a TimeoutError when its timer fires, and says so", async () => {
    const attempt = attemptSignal(undefined, 20);
    await new Promise((resolve) => attempt.signal.addEventListener("abort", resolve));
    expect(attempt.timedOut()).toBe(true);
    expect((attempt.signal.reason as DOMException).name).toBe("TimeoutError");
    attempt.clear();
  });

  it("follows the caller's signal with its reason, and leaves no listener on it after clear()", () => {
    const caller = new AbortController();
    const attempts = Array.from({ length: 3 }, () => attemptSignal(caller.signal, 60_000));
    expect(getEventListeners(caller.signal, "abort")).toHaveLength(3);
    for (const a of attempts.slice(1)) a.clear();
    expect(getEventListeners(caller.signal, "abort")).toHaveLength(1);
    caller.abort("stop");
    expect(attempts[0]?.signal.reason).toBe("stop");
    expect(attempts[0]?.timedOut()).toBe(false);
    expect(attempts[1]?.signal.aborted).toBe(false);
  });

  it("is aborted at once by an already aborted caller; a cleared timer never fires", async () => {
    const caller = AbortSignal.abort("gone");
    expect(attemptSignal(caller, 1_000).signal.reason).toBe("gone");
    const attempt = attemptSignal(undefined, 5);
    attempt.clear();
    attempt.clear(); // idempotent
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(attempt.signal.aborted).toBe(false);
    expect(attempt.timedOut()).toBe(false);
  });
});

describe("upsertBatch over the reference server", () => {
  let server: MockServer;
  beforeAll(async () => {
    server = await startMockServer({ rateLimit: false });
  });
  afterAll(async () => {
    await server.close();
  });

  it("a record whose toJSON getter throws is a ValidationError naming its index, nothing sent", async () => {
    const client = createVbapiClient({
      baseUrl: server.url,
      apiKey: server.credentials.apiKey,
      token: server.credentials.token,
      database: "perf",
      rateLimit: false,
      logLevel: "off",
    });
    const before = server.stats.requests;
    const hostile = Object.defineProperty({ tolerance_Key: 2, tolerance1: 1 }, "toJSON", {
      enumerable: false,
      get() {
        throw new Error("toJSON getter secret-value-123");
      },
    });
    const error = await client
      .upsertBatch("Tolerance", [{ tolerance_Key: 1, tolerance1: 1 }, hostile])
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).issues.map((i) => i.index)).toEqual([1]);
    expect(String((error as Error).message)).not.toContain("secret-value-123");
    expect(server.stats.requests).toBe(before);
    // The valid batch still goes, and the server saved it.
    const ok = await client.upsertBatch("Tolerance", [{ tolerance_Key: 1, tolerance1: 1 }]);
    expect(ok.succeeded).toBe(1);
  });
});

describe("the cleaner of server text", () => {
  it("removes a record value as long as the message, inside the activityId and in a long text", async () => {
    const values = ["Create", "ACT-999-xyz", "private-name-xyz"];
    const { fetch } = scriptedFetch(() =>
      json(207, {
        data: [
          { id: [{ key: "tolerance_Key", value: 1 }], status: 201, body: "Create" },
          {
            id: [{ key: "tolerance_Key", value: 2 }],
            status: 500,
            body: `row private-name-xyz refused (${SECRET_KEY})`,
          },
        ],
        debug: { activityID: "run ACT-999-xyz" },
      }),
    );
    const result = await testClient(fetch).upsertBatch("Tolerance", [
      { tolerance_Key: 1, tolerance1: 1, entry_User: values[0] },
      { tolerance_Key: 2, tolerance1: 1, entry_User: values[2], update_User: values[1] },
    ] as never);
    const text = JSON.stringify(result);
    for (const value of [...values, SECRET_KEY]) expect(text).not.toContain(value);
    expect(result.activityId).toBe("run [redacted]");
    expect(result.items.map((i) => i.message)).toEqual([
      "[redacted]",
      "row [redacted] refused ([redacted])",
    ]);
  });
});
