// The client's date-time check agrees with the reference server's, over HTTP: every string the
// client refuses, the server refuses with a 400, and every string the client accepts is stored.
import { type MockServer, startMockServer } from "@vbapi-sdk/mock-server";
import { afterAll, beforeAll, expect, it } from "vitest";
import { BadRequestError } from "../src/base/errors.ts";
import { validateRecords } from "../src/base/validate.ts";
import { createVbapiClient } from "../src/client/client.ts";

let server: MockServer;
beforeAll(async () => {
  server = await startMockServer({ rateLimit: false });
});
afterAll(() => server?.close());

const CASES = [
  "2026-01-05T08:30:00Z",
  "2026-01-05t08:30:00.123z",
  "2026-01-05T08:30:00+05:30",
  "2026-01-05T08:30:00-23:59",
  "2016-12-31T23:59:60Z",
  "2026-01-05T08:30:00+25:00",
  "2026-01-05T08:30:00+01:60",
  "2026-01-05T08:30:00+0100",
  "2026-01-05T08:30:00+01",
  "2026-01-05 08:30:00Z",
  "2026-01-05T08:30Z",
  "2026-02-30T08:30:00Z",
  "2026-01-05T08:30:00",
];

it.each(CASES)("client and reference server agree on %s", async (entryDate) => {
  const record = { tolerance_Key: 1, tolerance1: 1, entry_Date: entryDate };
  const clientAccepts = validateRecords("Tolerance", [record]).length === 0;
  const client = createVbapiClient({
    baseUrl: server.url,
    apiKey: server.credentials.apiKey,
    token: server.credentials.token,
    database: "dates",
    rateLimit: false,
    maxRetries: 0,
    logLevel: "off",
  });
  const answer = await client
    .upsertBatch("Tolerance", [record], { validate: false })
    .then((r) => r.items[0]?.outcome !== "failed")
    .catch((error: unknown) => {
      if (error instanceof BadRequestError) return false;
      throw error;
    });
  expect(answer).toBe(clientAccepts);
});
