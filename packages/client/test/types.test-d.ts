import { describe, expectTypeOf, it } from "vitest";
import {
  type BatchResult,
  type BulkInput,
  type BulkReport,
  type BulkUpserter,
  bulkUpserter,
  type components,
  createVbapiClient,
  type EntityKey,
  type EntityName,
  type EntityRecord,
  type EntityWithoutPathParams,
  entities,
  type paths,
  upsertAllEvents,
  upsertAllTolerances,
} from "../src/index.ts";

const client = createVbapiClient({ apiKey: "k", token: "t", database: "db" });

describe("upsertBatch types", () => {
  it("does not require the database header per call", () => {
    // No header parameter anywhere: the call compiles with entity and records only.
    client.upsertBatch("Tolerance", [{ tolerance_Key: 1, tolerance1: 2 }]);
    expectTypeOf(client.upsertBatch<"Tolerance">).toBeCallableWith("Tolerance", [
      { tolerance_Key: 1, tolerance1: 2 },
    ]);
    // @ts-expect-error there is no header option to pass
    client.upsertBatch("Tolerance", [], { params: { header: { "vbasoftware-database": "x" } } });
    expectTypeOf(client.upsertBatch<"Event">)
      .parameter(2)
      .toEqualTypeOf<import("../src/index.ts").UpsertBatchOptions<"Event"> | undefined>();
  });

  it("types results per entity", () => {
    expectTypeOf(client.upsertBatch("Tolerance", [])).resolves.toEqualTypeOf<
      BatchResult<EntityKey<"Tolerance">>
    >();
    expectTypeOf<EntityKey<"Tolerance">>().toEqualTypeOf<{ tolerance_Key: number }>();
    expectTypeOf<EntityKey<"ProviderCredService">>().toEqualTypeOf<{
      providerCred_Key: number;
      credService_Key: number;
    }>();
    type Item = Awaited<
      ReturnType<typeof client.upsertBatch<"ProviderCredService">>
    >["items"][number];
    expectTypeOf<Item["key"]>().toEqualTypeOf<{
      providerCred_Key: number;
      credService_Key: number;
    }>();
  });

  it("types records from the spec", () => {
    expectTypeOf<EntityRecord<"Tolerance">["tolerance1"]>().toEqualTypeOf<number>();
    expectTypeOf<EntityRecord<"Event">["completion_Percent"]>().toEqualTypeOf<
      number | null | undefined
    >();
    // The entity names are the generated table's keys: literal schema names, never `string`,
    // and the entities these tests use are among them (a new endpoint only adds one).
    expectTypeOf<EntityName>().toEqualTypeOf<keyof typeof entities>();
    expectTypeOf<EntityName>().toExtend<keyof components["schemas"]>();
    expectTypeOf<string>().not.toExtend<EntityName>();
    expectTypeOf<"Event" | "ProviderCredService" | "Tolerance">().toExtend<EntityName>();
    expectTypeOf(entities.ProviderCredService.keys).toEqualTypeOf<
      readonly ["providerCred_Key", "credService_Key"]
    >();
    // @ts-expect-error tolerance1 is required
    client.upsertBatch("Tolerance", [{ tolerance_Key: 1 }]);
    // @ts-expect-error unknown fields are rejected
    client.upsertBatch("Tolerance", [{ tolerance_Key: 1, tolerance1: 1, nope: true }]);
  });

  it("requires pathParams for ProviderCredService only", () => {
    client.upsertBatch("ProviderCredService", [{ providerCred_Key: 1, credService_Key: 2 }], {
      pathParams: { providerCredKey: 1 },
    });
    // @ts-expect-error the options (with pathParams) are required
    client.upsertBatch("ProviderCredService", [{ providerCred_Key: 1, credService_Key: 2 }]);
    // @ts-expect-error pathParams needs providerCredKey
    client.upsertBatch("ProviderCredService", [], { pathParams: {} });
    client.upsertBatch("Tolerance", [], { timeoutMs: 5, maxRetries: 0, validate: "skip-invalid" });
  });
});

describe("raw client types", () => {
  it("does not require vbasoftware-database per call", () => {
    client.raw.PUT("/tolerances-batch", { body: [{ tolerance_Key: 1, tolerance1: 2 }] });
    client.raw.PUT("/provider-credentialing/{providerCredKey}/services-batch", {
      params: { path: { providerCredKey: 1 } },
      body: [{ providerCred_Key: 1, credService_Key: 2 }],
    });
    // It may still be given (e.g. to target another database for one call).
    client.raw.PUT("/events-batch", {
      params: { header: { "vbasoftware-database": "other" } },
      body: [],
    });
    // @ts-expect-error the path parameter is still required
    client.raw.PUT("/provider-credentialing/{providerCredKey}/services-batch", { body: [] });
    // @ts-expect-error bodies are still typed
    client.raw.PUT("/tolerances-batch", { body: [{ tolerance_Key: "1" }] });
  });

  it("while the generated paths type itself does require it", () => {
    type Header = paths["/tolerances-batch"]["put"]["parameters"]["header"];
    expectTypeOf<Header>().toEqualTypeOf<{ "vbasoftware-database": string }>();
  });

  it("types the 207 data", async () => {
    const { data } = await client.raw.PUT("/tolerances-batch", { body: [] });
    expectTypeOf(data).toEqualTypeOf<
      | import("../src/index.ts").components["schemas"]["MultiCodeResponseListVBAResponse"]
      | undefined
    >();
  });
});

describe("bulk one-liner types", () => {
  it("types each generated one-liner as BulkUpserter of its entity; scoped entities have none", () => {
    expectTypeOf(upsertAllEvents).toEqualTypeOf<BulkUpserter<"Event">>();
    expectTypeOf(upsertAllTolerances)
      .parameter(1)
      .toEqualTypeOf<BulkInput<EntityRecord<"Tolerance">>>();
    expectTypeOf(upsertAllTolerances).returns.resolves.toEqualTypeOf<
      BulkReport<EntityKey<"Tolerance">>
    >();
    // Every entity but the one whose batch path has a parameter (a sixth, unscoped entity joins).
    expectTypeOf<EntityWithoutPathParams>().toEqualTypeOf<
      Exclude<EntityName, "ProviderCredService">
    >();
    expectTypeOf<"ProviderCredService">().not.toExtend<EntityWithoutPathParams>();
    // @ts-expect-error a scoped entity takes its path parameters first: no BulkUpserter
    bulkUpserter("ProviderCredService");
  });
});
