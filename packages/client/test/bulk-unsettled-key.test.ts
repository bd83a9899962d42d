// A request given up on without its answer (a connection cut after sending, a timeout) or one a
// gateway gave up on (502, 504; a CDN's 520, 524) may still reach VBA and be applied later, after a record sent
// since. Here a fetch of the test's own plays that: the chosen calls fail as the network would,
// while their requests are held and delivered to the reference server after the run, so the
// store shows what VBA would end with. A later record with the same key is then not sent in the
// run: the report never says the newer data was saved while the older is what VBA keeps.
import { type MockServer, startMockServer } from "@vbapi-sdk/mock-server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { UNSETTLED_KEY_MESSAGE } from "../src/bulk/engine.ts";
import { upsertAllTolerances } from "../src/bulk/index.ts";
import { createVbapiClient } from "../src/client/client.ts";
import { serverClient } from "./helpers.ts";

let server: MockServer;
beforeAll(async () => {
  server = await startMockServer({ rateLimit: false });
});
afterAll(() => server.close());

let scenario = 0;

/** What the network does to a call: "cut" (the connection closes after the request went out),
 *  "504" (a gateway gives up), "400" (the batch refused as a whole); both of the first two
 *  deliver the request to the server later. */
type Trouble = "cut" | "504" | "524" | "400";

function troubledClient(database: string, troubles: (Trouble | undefined)[], maxRetries: number) {
  const held: (() => Promise<unknown>)[] = [];
  let call = 0;
  const client = createVbapiClient({
    baseUrl: server.url,
    apiKey: server.credentials.apiKey,
    token: server.credentials.token,
    database,
    maxRetries,
    backoff: { initialDelayMs: 0, maxDelayMs: 0, maxRetryAfterMs: 0 },
    rateLimit: false,
    logLevel: "off",
    fetch: (async (url: string, init: RequestInit) => {
      const trouble = troubles[call++];
      if (trouble === undefined) return fetch(url, init);
      if (trouble === "400") {
        return new Response(JSON.stringify({ title: "Bad Request", status: 400 }), {
          status: 400,
          headers: { "content-type": "application/problem+json" },
        });
      }
      held.push(() => fetch(url, { ...init, signal: undefined }).then((r) => r.arrayBuffer()));
      if (trouble === "504") {
        return new Response(JSON.stringify({ title: "Gateway Timeout", status: 504 }), {
          status: 504,
          headers: { "content-type": "application/problem+json" },
        });
      }
      // Cloudflare's own page when the origin took the request and did not answer in 100 s.
      if (trouble === "524") {
        return new Response("<html><title>524: A timeout occurred</title></html>", {
          status: 524,
          headers: { "content-type": "text/html" },
        });
      }
      // What undici throws when the server's side closes after the request was written.
      const cause = Object.assign(new Error("other side closed"), {
        name: "SocketError",
        code: "UND_ERR_SOCKET",
      });
      throw new TypeError("fetch failed", { cause });
    }) as typeof fetch,
  });
  const deliverHeld = async () => {
    for (const deliver of held.splice(0)) await deliver();
  };
  return { client, deliverHeld };
}

const stored = (database: string, key: number) =>
  server.store.get(database, "Tolerance", { tolerance_Key: key })?.body;

const records = [
  { tolerance_Key: 18, tolerance1: 1 },
  { tolerance_Key: 7, tolerance1: 7 },
  { tolerance_Key: 18, tolerance1: 2 },
];

describe("a later record with the key of one whose request may still be applied", () => {
  it.each([
    {
      how: "the first record failed (cut off, no retry)",
      troubles: ["cut"],
      maxRetries: 0,
      maxRecordRetries: 0,
      chunkSize: 1,
    },
    {
      how: "the client's retry of it succeeded",
      troubles: ["cut"],
      maxRetries: 1,
      maxRecordRetries: 0,
      chunkSize: 1,
    },
    {
      how: "the engine's re-send of it succeeded",
      troubles: ["cut"],
      maxRetries: 0,
      maxRecordRetries: 1,
      chunkSize: 1,
    },
    {
      how: "a gateway answered 504 and the retry succeeded",
      troubles: ["504"],
      maxRetries: 1,
      maxRecordRetries: 0,
      chunkSize: 1,
    },
    {
      how: "a gateway answered 504 (no retry)",
      troubles: ["504"],
      maxRetries: 0,
      maxRecordRetries: 0,
      chunkSize: 1,
    },
    {
      how: "a CDN answered 524, its origin timed out (not retried)",
      troubles: ["524"],
      maxRetries: 1,
      maxRecordRetries: 1,
      chunkSize: 1,
    },
    {
      how: "the retry was refused whole (400) and the batch split",
      troubles: ["cut", "400"],
      maxRetries: 1,
      maxRecordRetries: 0,
      chunkSize: 2,
    },
  ] as {
    how: string;
    troubles: Trouble[];
    maxRetries: number;
    maxRecordRetries: number;
    chunkSize: number;
  }[])("is not sent, and the report matches what VBA keeps: $how", async (c) => {
    const database = `unsettled${++scenario}`;
    const { client, deliverHeld } = troubledClient(database, c.troubles, c.maxRetries);
    const report = await upsertAllTolerances(client, records, {
      chunkSize: c.chunkSize,
      concurrency: 1,
      maxRecordRetries: c.maxRecordRetries,
      recordRetryDelayMs: 0,
    });
    // The held request reaches VBA after everything the run sent.
    await deliverHeld();
    const [first, other, later] = report.items;
    // Another key goes on as usual.
    expect(["created", "updated"]).toContain(other?.outcome);
    expect(stored(database, 7)).toEqual(records[1]);
    // The later record of key 18 was never sent: to send again (vbapi resume does).
    expect(later).toMatchObject({ outcome: "not_attempted", attempts: 0, heldBack: true });
    expect(later?.message).toBe(UNSETTLED_KEY_MESSAGE);
    // What VBA keeps is the first record: reported saved, or failed and "may have been
    // applied" (a cut connection, or a gateway's 504: the server behind it went on).
    expect(stored(database, 18)).toEqual(records[0]);
    if (first?.outcome !== "created") {
      expect(first).toMatchObject({ outcome: "failed", mayHaveBeenApplied: true });
    }
    expect(report.totals).toMatchObject({ total: 3, notAttempted: 1 });
  });

  it.each([
    ["says so", (index: number) => index === 0],
    [
      "throws (taken as true)",
      (index: number) => {
        if (index === 0) throw new Error("lookup failed");
        return false;
      },
    ],
  ])(
    "a record an earlier run may have sent (sentBefore %s): it goes, later ones with its key wait",
    async (_how, sentBefore) => {
      const database = `unsettled${++scenario}`;
      const client = serverClient(server, { rateLimit: false, database });
      const report = await upsertAllTolerances(client, records, { chunkSize: 1, sentBefore });
      expect(report.items.map((i) => [i.outcome, i.heldBack])).toEqual([
        ["created", undefined],
        ["created", undefined],
        ["not_attempted", true],
      ]);
      expect(stored(database, 18)).toEqual(records[0]);
    },
  );

  it("sentBefore that is not a function is refused before anything is sent", async () => {
    const client = serverClient(server, { rateLimit: false, database: "unsettled-refused" });
    await expect(
      upsertAllTolerances(client, records, { sentBefore: true as never }),
    ).rejects.toThrow(/sentBefore must be a function/);
    expect(server.store.list("unsettled-refused", "Tolerance")).toEqual([]);
  });

  it("a record answered in time leaves later records of its key free to go", async () => {
    const database = `unsettled${++scenario}`;
    const client = serverClient(server, { rateLimit: false, database });
    server.faults.add({ type: "status", status: 503, count: 1, target: { database } });
    const twice = [
      { tolerance_Key: 18, tolerance1: 1 },
      { tolerance_Key: 18, tolerance1: 2 },
    ];
    const report = await upsertAllTolerances(client, twice, {
      chunkSize: 1,
      recordRetryDelayMs: 0,
    });
    server.faults.clear();
    // A 503 from the server itself is an answer: nothing of that request is still on its way.
    expect(report.items.map((i) => i.outcome)).toEqual(["created", "updated"]);
    expect(report.items.some((i) => i.heldBack)).toBe(false);
    expect(stored(database, 18)).toEqual(twice[1]);
  });
});
