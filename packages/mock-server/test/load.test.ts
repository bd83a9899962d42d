// A short bounded load test on loopback: no errors, only 207s, and the records all arrive.
import autocannon from "autocannon";
import { afterAll, beforeAll, expect, it } from "vitest";
import { type MockServer, startMockServer } from "../src/index.ts";

let server: MockServer;
beforeAll(async () => {
  server = await startMockServer({ rateLimit: false });
});
afterAll(() => server.close());

it("serves batches of 100 records at a high rate without errors", async () => {
  const batch = Array.from({ length: 100 }, (_, i) => ({
    tolerance_Key: i,
    tolerance1: i / 4,
    group_ID: `GRP${i}`,
    entry_Date: "2026-01-05T08:30:00Z",
  }));
  const result = await autocannon({
    url: `${server.url}/tolerances-batch`,
    method: "PUT",
    headers: {
      ...server.credentials.headers,
      "vbasoftware-database": "load",
      "content-type": "application/json",
      accept: "application/json",
    },
    body: JSON.stringify(batch),
    connections: 16,
    duration: 2.5,
  });
  // The measured rate is part of the test's output.
  console.log(
    `mock-server load: ${Math.round(result.requests.average)} req/s (${Math.round(result.requests.average * 100)} records/s), ` +
      `${result.requests.total} requests, p99 ${result.latency.p99} ms`,
  );
  expect(result.errors).toBe(0);
  expect(result.timeouts).toBe(0);
  expect(result.non2xx).toBe(0);
  expect(result.requests.total).toBeGreaterThan(100);
  const stats = server.stats;
  // Requests cut off when autocannon stops may have no answer; every answered one is a 207.
  expect(Object.keys(stats.byStatus)).toEqual(["207"]);
  const answered = stats.byStatus["207"] as number;
  expect(answered).toBeGreaterThanOrEqual(result.requests.total);
  expect(server.store.count("load", "Tolerance")).toBe(100);
  // every answered request wrote every record exactly once
  expect(server.store.totalWrites("load", "Tolerance")).toBe(answered * 100);
});
