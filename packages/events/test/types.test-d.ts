import { describe, expectTypeOf, it } from "vitest";
import type { BatchResult, VbaEvent, VbaEventKey } from "../src/generated/index.ts";
import { createVbapiClient, upsertEvents } from "../src/generated/index.ts";

describe("events types", () => {
  it("come from the generated schema and do not shadow Event", () => {
    expectTypeOf<VbaEvent["event_ID"]>().toEqualTypeOf<number>();
    expectTypeOf<VbaEventKey>().toEqualTypeOf<{ event_ID: number }>();
    const client = createVbapiClient();
    expectTypeOf(upsertEvents(client, [])).resolves.toEqualTypeOf<BatchResult<VbaEventKey>>();
    const missingReminder = {
      event_ID: 1,
      claim_Audit_Event: false,
      process_Automation_Event: false,
    };
    // @ts-expect-error reminder is required
    upsertEvents(client, [missingReminder]);
    expectTypeOf<Event>().not.toEqualTypeOf<VbaEvent>();
  });
});
