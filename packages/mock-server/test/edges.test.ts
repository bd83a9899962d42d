// Hostile edges: bodies that are not UTF-8, fault definitions that could not be served, and
// date-times that are not strict RFC 3339.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type MockServer, startMockServer } from "../src/index.ts";
import { admin, put } from "./helpers.ts";

let server: MockServer;
beforeAll(async () => {
  server = await startMockServer({ rateLimit: false });
});
afterAll(() => server.close());
beforeEach(() => server.reset());

async function putBytes(bytes: Uint8Array) {
  const res = await fetch(`${server.url}/tolerances-batch`, {
    method: "PUT",
    headers: {
      ...server.credentials.headers,
      "vbasoftware-database": "testdb",
      "content-type": "application/json",
    },
    body: Uint8Array.from(bytes),
  });
  return { status: res.status, type: res.headers.get("content-type"), json: await res.json() };
}

describe("a body that is not valid UTF-8", () => {
  const before = Buffer.from('[{"tolerance_Key":1,"tolerance1":1,"group_ID":"');
  const after = Buffer.from('"}]');
  const cases: Array<[string, number[]]> = [
    ["a stray continuation byte", [0x80]],
    ["an invalid lead byte", [0xff, 0xfe]],
    ["an overlong encoding of /", [0xc0, 0xaf]],
    ["an encoded UTF-16 surrogate", [0xed, 0xa0, 0x80]],
    ["a truncated sequence", [0xe2, 0x82]],
  ];
  for (const [name, bad] of cases) {
    it(`answers 400 naming the encoding for ${name}, storing nothing`, async () => {
      const res = await putBytes(Buffer.concat([before, Buffer.from(bad), after]));
      expect(res.status).toBe(400);
      expect(res.type).toBe("application/problem+json");
      expect(res.json.detail).toMatch(/not valid UTF-8/);
      expect(server.store.count("testdb", "Tolerance")).toBe(0);
    });
  }

  it("still accepts multi-byte UTF-8 text", async () => {
    const res = await putBytes(Buffer.concat([before, Buffer.from("Zoë €"), after]));
    expect(res.status).toBe(207);
    expect(server.store.get("testdb", "Tolerance", [1])?.body.group_ID).toBe("Zoë €");
  });
});

describe("fault definitions that could not be served", () => {
  const refused: Array<[string, unknown, RegExp]> = [
    [
      "a Retry-After with CR/LF",
      { type: "status", status: 503, retryAfter: "1\r\nx-evil: 1" },
      /retryAfter/,
    ],
    [
      "a Retry-After with a bare LF",
      { type: "status", status: 503, retryAfter: "1\nx" },
      /retryAfter/,
    ],
    ["a negative Retry-After", { type: "status", status: 503, retryAfter: -1 }, /retryAfter/],
    ["an informational status", { type: "status", status: 150 }, /status .*200 and 599/],
    ["a status above 599", { type: "status", status: 600 }, /status .*200 and 599/],
    ["a 1xx broken body", { type: "bad-body", body: "truncated", status: 101 }, /status/],
    ["a record status of 99", { type: "fail-records", status: 99 }, /status/],
    ["a count of 1.5", { type: "status", status: 503, count: 1.5 }, /count/],
    ["a string count", { type: "status", status: 503, count: "2" }, /count/],
    [
      "a target database that is not text",
      { type: "status", status: 503, target: { database: 5 } },
      /target\.database/,
    ],
    ["a null key match", { type: "fail-records", keys: [null] }, /keys/],
    ["an unknown type", { type: "explode" }, /type must be one of/],
  ];
  for (const [name, spec, field] of refused) {
    it(`refuses ${name} with a 400 naming the field; the API keeps working`, async () => {
      const res = await admin(server, "POST", "/faults", spec);
      expect(res.status).toBe(400);
      expect(res.json.detail).toMatch(field);
      expect(server.faults.list()).toEqual([]);
      expect((await put(server, "/tolerances-batch", [])).status).toBe(207);
    });
  }

  it("names the position of the bad fault in an array and adds none of them", async () => {
    const res = await admin(server, "POST", "/faults", [
      { type: "status", status: 503 },
      { type: "status", status: 503, retryAfter: "x\r\ny" },
    ]);
    expect(res.status).toBe(400);
    expect(res.json.detail).toMatch(/^fault 1: retryAfter/);
    expect(server.faults.list()).toEqual([]);
  });

  it("refuses the same definitions programmatically", () => {
    expect(() => server.faults.failNext(1, 199)).toThrow(RangeError);
    expect(() => server.faults.failNext(1, 503, { retryAfter: "1\r\nx: y" })).toThrow(/retryAfter/);
    expect(server.faults.list()).toEqual([]);
  });

  it("serves the legal edge values it accepts", async () => {
    await admin(server, "POST", "/faults", [
      { type: "status", status: 200, detail: "odd but servable" },
      { type: "status", status: 599, retryAfter: "Wed, 21 Oct 2015 07:28:00 GMT" },
    ]);
    expect((await put(server, "/tolerances-batch", [])).status).toBe(200);
    const res = await put(server, "/tolerances-batch", []);
    expect(res.status).toBe(599);
    expect(res.headers.get("retry-after")).toBe("Wed, 21 Oct 2015 07:28:00 GMT");
  });
});

describe("date-time fields are strict RFC 3339", () => {
  const record = (entry_Date: string) => [{ tolerance_Key: 1, tolerance1: 1, entry_Date }];
  const invalid = [
    "2026-01-05T08:30:00+25:00", // offset hour out of range
    "2026-01-05T08:30:00-24:00",
    "2026-01-05T08:30:00+01:60", // offset minute out of range
    "2026-01-05T08:30:00+0100", // offset without colon
    "2026-01-05T08:30:00+01", // offset without minutes
    "2026-01-05 08:30:00Z", // space instead of T
    "2026-01-05T08:30Z", // no seconds
    "2026-01-05T08:30:00", // no offset
    "2026-02-30T08:30:00Z", // no such day
    "2025-02-29T08:30:00Z", // not a leap year
    "2026-01-05T24:00:00Z",
    "2026-01-05T12:00:60Z", // a leap second only at 23:59 UTC
    "2026-01-05T08:30:00.Z",
  ];
  for (const value of invalid) {
    it(`refuses ${value}`, async () => {
      const res = await put(server, "/tolerances-batch", record(value));
      expect(res.status).toBe(400);
      expect(res.json.errors).toEqual([
        expect.objectContaining({ record: 0, field: "/entry_Date" }),
      ]);
    });
  }
  it("accepts valid ones", async () => {
    for (const value of [
      "2026-01-05T08:30:00Z",
      "2026-01-05t08:30:00z",
      "2026-01-05T08:30:00.123456+05:30",
      "2026-01-05T08:30:00-23:59",
      "2024-02-29T00:00:00Z",
      "2016-12-31T23:59:60Z",
      "2017-01-01T00:59:60+01:00",
    ]) {
      expect((await put(server, "/tolerances-batch", record(value))).status, value).toBe(207);
    }
  });
});
