import { describe, expectTypeOf, it } from "vitest";
import {
  type BatchResult,
  createVbapiClient,
  type ProviderCredKey,
  type ProviderCredService,
  type ProviderCredServiceKey,
  upsertProviderCredServices,
} from "../src/generated/index.ts";

describe("credentialing types", () => {
  it("come from the generated schema", () => {
    const client = createVbapiClient();
    expectTypeOf<ProviderCredKey>().toEqualTypeOf<number>();
    expectTypeOf<ProviderCredService["percentage"]>().toEqualTypeOf<number | null | undefined>();
    expectTypeOf<ProviderCredServiceKey>().toEqualTypeOf<{
      providerCred_Key: number;
      credService_Key: number;
    }>();
    expectTypeOf(upsertProviderCredServices(client, 1, [])).resolves.toEqualTypeOf<
      BatchResult<ProviderCredServiceKey>
    >();
    // @ts-expect-error the process key is a number
    upsertProviderCredServices(client, "1", []);
    // @ts-expect-error pathParams come from the providerCredKey argument
    upsertProviderCredServices(client, 1, [], { pathParams: { providerCredKey: 2 } });
  });
});
