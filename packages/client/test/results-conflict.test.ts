// A 207 that names one record more often than the request holds it, once as saved and once as not
// (a lying or confused server), never gets the record reported saved: its outcome is unknown.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, describe, expect, it } from "vitest";
import { createVbapiClient, upsertAll } from "../src/index.ts";
import { CONFLICTING_MESSAGE, matchItems } from "../src/transport/results.ts";

const entry = (key: unknown, status: number) => ({
  id: [{ key: "tolerance_Key", value: key }],
  status,
  body: status === 201 ? "Created" : status === 200 ? "Updated" : "Rejected",
});
const KEYS = ["tolerance_Key"];
const records = (...keys: number[]) => keys.map((k) => ({ tolerance_Key: k, tolerance1: 1 }));

describe("a key reported twice with different outcomes", () => {
  it.each([
    ["201 then 422, in order", [entry(1, 201), entry(2, 200), entry(1, 422)]],
    ["422 then 201, in order", [entry(1, 422), entry(2, 200), entry(1, 201)]],
    ["out of order", [entry(2, 200), entry(1, 201), entry("1", 500)]],
  ])("%s: that record fails with status 0 and says why; the other keeps its answer", (_, data) => {
    const { items, unmatchedEntries } = matchItems(records(1, 2), KEYS, data);
    expect(unmatchedEntries).toBe(1);
    expect(items[0]).toEqual({
      index: 0,
      key: { tolerance_Key: 1 },
      status: 0,
      outcome: "failed",
      message: CONFLICTING_MESSAGE,
    });
    expect(items[1]).toMatchObject({ index: 1, status: 200, outcome: "updated" });
  });

  it("a key the request holds twice, answered once saved and once not: both answers stand", () => {
    // Not a conflict: two records, two entries, matched in order.
    const { items, unmatchedEntries } = matchItems(records(1, 1), KEYS, [
      entry(1, 201),
      entry(1, 422),
    ]);
    expect(unmatchedEntries).toBe(0);
    expect(items.map((i) => i.outcome)).toEqual(["created", "failed"]);
    expect(items.map((i) => i.status)).toEqual([201, 422]);
  });

  it("held twice, reported three times with both outcomes: both records unknown", () => {
    const { items } = matchItems(records(1, 1), KEYS, [
      entry(1, 201),
      entry(1, 200),
      entry(1, 422),
    ]);
    expect(items.map((i) => [i.status, i.outcome, i.message])).toEqual([
      [0, "failed", CONFLICTING_MESSAGE],
      [0, "failed", CONFLICTING_MESSAGE],
    ]);
  });

  it("the same outcome twice (201, 200) is no conflict: saved, the extra entry ignored", () => {
    const { items, unmatchedEntries } = matchItems(records(1), KEYS, [
      entry(1, 201),
      entry(1, 200),
    ]);
    expect(unmatchedEntries).toBe(1);
    expect(items[0]).toMatchObject({ status: 201, outcome: "created" });
  });

  it("a failure no entry's key attributes, beside a saved answer, in an answer longer than the request: unknown", () => {
    // One record; the answer says it was created and adds a rejection naming no key.
    const { items } = matchItems(records(1), KEYS, [
      entry(1, 201),
      { status: 422, body: "rejected" },
    ]);
    expect(items[0]).toMatchObject({ status: 0, outcome: "failed", message: CONFLICTING_MESSAGE });
    // Two records: either may be the rejected one.
    const two = matchItems(records(1, 2), KEYS, [entry(1, 201), entry(2, 200), { status: 500 }]);
    expect(two.items.map((i) => [i.status, i.outcome])).toEqual([
      [0, "failed"],
      [0, "failed"],
    ]);
    // Not a failure (a junk entry, or one more success): the answers stand.
    for (const extra of [null, 7, { body: "no status" }, { status: 200 }]) {
      const r = matchItems(records(1), KEYS, [entry(1, 201), extra]);
      expect(r.items[0]).toMatchObject({ status: 201, outcome: "created" });
    }
  });

  it("composite keys: an in-order answer naming only one key field is matched by position (an ordinary answer)", () => {
    // VBA does not publish the key names: ids naming credService_Key alone (providerCred_Key is
    // the batch's path parameter) must not turn a saved batch into failures and re-sends.
    const keys = ["providerCred_Key", "credService_Key"];
    const recs = [1, 2, 3].map((n) => ({ providerCred_Key: 7, credService_Key: n }));
    const data = recs.map((r) => ({
      id: [{ key: "credService_Key", value: r.credService_Key }],
      status: 201,
    }));
    const { items, unmatchedEntries } = matchItems(recs, keys, data);
    expect(unmatchedEntries).toBe(0);
    expect(items.map((i) => i.outcome)).toEqual(["created", "created", "created"]);
  });

  it("composite keys: a failure naming only some key fields, in an answer longer than the request, leaves the saved records unknown", () => {
    const keys = ["providerCred_Key", "credService_Key"];
    const recs = [1, 2].map((n) => ({ providerCred_Key: 1, credService_Key: n }));
    const full = (r: (typeof recs)[number]) => ({
      id: [
        { key: "providerCred_Key", value: r.providerCred_Key },
        { key: "credService_Key", value: r.credService_Key },
      ],
      status: 201,
    });
    const data = [...recs.map(full), { id: [{ key: "providerCred_Key", value: 1 }], status: 400 }];
    const { items } = matchItems(recs, keys, data);
    expect(items.map((i) => [i.status, i.outcome, i.message])).toEqual([
      [0, "failed", CONFLICTING_MESSAGE],
      [0, "failed", CONFLICTING_MESSAGE],
    ]);
  });

  it("keeps the caller's indices", () => {
    const { items } = matchItems(
      records(7, 8),
      KEYS,
      [entry(7, 201), entry(8, 200), entry(7, 400)],
      {
        indices: [40, 41],
      },
    );
    expect(items.map((i) => [i.index, i.outcome])).toEqual([
      [40, "failed"],
      [41, "updated"],
    ]);
  });
});

describe("over real HTTP: a server answering 201 and 422 for one record", () => {
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => {
      body += c;
    });
    req.on("end", () => {
      const sent = JSON.parse(body) as { tolerance_Key: number }[];
      const data = sent.map((r) => entry(r.tolerance_Key, 201));
      data.push(entry(sent[0]?.tolerance_Key, 422));
      res.writeHead(207, { "content-type": "application/json" });
      res.end(JSON.stringify({ data }));
    });
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const connect = async () => {
    if (!server.listening)
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as AddressInfo).port;
    return createVbapiClient({
      baseUrl: `http://127.0.0.1:${port}`,
      apiKey: "k",
      token: "t",
      database: "db",
      logger: { warn() {}, info() {}, debug() {}, error() {} },
    });
  };

  it("upsertBatch reports it failed (not saved), the rest saved, every record accounted for", async () => {
    const client = await connect();
    const result = await client.upsertBatch("Tolerance", records(1, 2, 3));
    expect(result.items.map((i) => i.outcome)).toEqual(["failed", "created", "created"]);
    expect(result.items[0]).toMatchObject({ status: 0, message: CONFLICTING_MESSAGE });
    expect(result.succeeded).toBe(2);
    expect(result.failed).toBe(1);
  });

  it("upsertAll re-sends it (an upsert), then fails it as unknown and maybe applied; never saved", async () => {
    const client = await connect();
    const report = await upsertAll(client, "Tolerance", records(1, 2), {
      recordRetryDelayMs: 1,
      maxRecordRetries: 2,
    });
    const [first, second] = report.items;
    expect(first).toMatchObject({ outcome: "failed", status: 0, mayHaveBeenApplied: true });
    expect(first?.message).toBe(
      `${CONFLICTING_MESSAGE}; may have been applied: re-check this record`,
    );
    expect(first?.attempts).toBe(3);
    expect(second).toMatchObject({ outcome: "created" });
    expect(report.totals).toMatchObject({ created: 1, failed: 1 });
  });
});
