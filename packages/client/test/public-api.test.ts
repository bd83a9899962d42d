// The public surface of @vbapi-sdk/client is deliberate: every hand-written runtime name exported
// is listed here. Adding one is a minor release, removing or renaming one a major: change this
// list only together with a changeset that says so. The typed bulk one-liners
// (`upsertAll<Plural>`, one per batch operation) are generated from the spec: their names come
// from the generated entity table, so a new endpoint is a spec change and nothing else.
import { expect, it } from "vitest";
import * as client from "../src/index.ts";

const HAND_WRITTEN = [
  "AbortError",
  "ApiError",
  "AuthenticationError",
  "BadRequestError",
  "BulkAccountingError",
  "BulkCallbackError",
  "BulkInputError",
  "BulkRunError",
  "ConfigurationError",
  "ConnectionError",
  "InternalServerError",
  "MAY_HAVE_BEEN_APPLIED",
  "NOT_REPORTED_MESSAGE",
  "NoResponseError",
  "PermissionDeniedError",
  "RateLimitError",
  "RateLimiter",
  "RequestSetupError",
  "ResponseParseError",
  "SDK_VERSION",
  "TimeoutError",
  "TokenProviderError",
  "ValidationError",
  "VbapiError",
  "batchUpserter",
  "bulkUpserter",
  "createVbapiClient",
  "defaults",
  "describeNetworkFailure",
  "entities",
  "entityNames",
  "gatewayGaveUp",
  "keyIdentity",
  "memoryTokenCache",
  "passwordLogin",
  "tokenTimes",
  "upsertAll",
  "validateRecords",
];

/** The generated one-liners: `upsertAll<Plural>` for each entity of the spec-derived table. */
const oneLiners = Object.values(client.entities).map((e) => `upsertAll${e.plural}`);

const byCodeUnit = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

it("exports exactly the documented runtime names and one bulk one-liner per entity", () => {
  // At most 43 names with the spec's five entities: each further endpoint adds its one-liner.
  expect(HAND_WRITTEN.length).toBeLessThanOrEqual(38);
  expect(oneLiners.length).toBe(client.entityNames.length);
  expect(oneLiners).toContain("upsertAllTolerances");
  expect(Object.keys(client).sort(byCodeUnit)).toEqual(
    [...HAND_WRITTEN, ...oneLiners].sort(byCodeUnit),
  );
  for (const name of oneLiners) {
    expect(typeof (client as unknown as Record<string, unknown>)[name], name).toBe("function");
  }
});

it("every error class is a VbapiError, and the ones for an unfinished request share a base", () => {
  const errors = Object.entries(client).filter(
    ([name, value]) =>
      typeof value === "function" && name.endsWith("Error") && name !== "VbapiError",
  );
  for (const [, ErrorClass] of errors) {
    expect((ErrorClass as { prototype: unknown }).prototype).toBeInstanceOf(client.VbapiError);
  }
  for (const name of [
    "ConnectionError",
    "TimeoutError",
    "AbortError",
    "RequestSetupError",
    "TokenProviderError",
  ]) {
    expect(
      (client as unknown as Record<string, { prototype: unknown }>)[name]?.prototype,
    ).toBeInstanceOf(client.NoResponseError);
  }
});

it("defaults: one frozen object, equal to what the code does when an option is not given", async () => {
  const { defaults, createVbapiClient } = client;
  expect(Object.isFrozen(defaults) && Object.isFrozen(defaults.bulk)).toBe(true);
  const c = createVbapiClient({ apiKey: "k", token: "t", database: "d" });
  expect(c.config).toMatchObject({
    baseUrl: defaults.baseUrl,
    timeoutMs: defaults.timeoutMs,
    maxRetries: defaults.maxRetries,
  });
  expect(c.rateLimiter).toMatchObject({
    requestsPerSecond: defaults.rateLimit.requestsPerSecond,
    burst: defaults.rateLimit.burst,
  });
});
