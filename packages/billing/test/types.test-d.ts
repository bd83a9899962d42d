import { describe, expectTypeOf, it } from "vitest";
import {
  type ArmorCodeExCodeKey,
  type BatchResult,
  type ClaimPromptPay,
  type ClaimPromptPayKey,
  createVbapiClient,
  type Tolerance,
  type ToleranceKey,
  upsertArmorCodeExCodes,
  upsertClaimPromptPays,
  upsertTolerances,
} from "../src/generated/index.ts";

describe("billing types", () => {
  it("come from the generated schema", () => {
    const client = createVbapiClient();
    expectTypeOf<Tolerance["tolerance1"]>().toEqualTypeOf<number>();
    expectTypeOf<ClaimPromptPay["prompt_Pay_Duration"]>().toEqualTypeOf<
      number | null | undefined
    >();
    expectTypeOf(upsertTolerances(client, [])).resolves.toEqualTypeOf<BatchResult<ToleranceKey>>();
    expectTypeOf(upsertClaimPromptPays(client, [])).resolves.toEqualTypeOf<
      BatchResult<ClaimPromptPayKey>
    >();
    expectTypeOf(upsertArmorCodeExCodes(client, [])).resolves.toEqualTypeOf<
      BatchResult<ArmorCodeExCodeKey>
    >();
    expectTypeOf<ToleranceKey>().toEqualTypeOf<{ tolerance_Key: number }>();
    // @ts-expect-error armor_Code is required
    upsertArmorCodeExCodes(client, [{ armorCodeExCode_Key: 1, ex_Code: "E" }]);
  });
});
