// A consumer's program, compiled once as ESM and once as CommonJS by run.mjs.
import { upsertAllTolerances, upsertTolerances } from "@vbapi-sdk/billing";
import { type BatchResult, createVbapiClient, ValidationError } from "@vbapi-sdk/client";
import { upsertProviderCredServices } from "@vbapi-sdk/credentialing";
import { upsertEvents, type VbaEvent } from "@vbapi-sdk/events";
import { startMockServer } from "@vbapi-sdk/mock-server";
import spec from "@vbapi-sdk/openapi";

async function main(): Promise<void> {
  const server = await startMockServer();
  try {
    const client = createVbapiClient({
      baseUrl: server.url,
      apiKey: server.credentials.apiKey,
      token: server.credentials.token,
      database: "CONSUMER",
    });
    const events: VbaEvent[] = [
      { event_ID: 1, claim_Audit_Event: false, process_Automation_Event: false, reminder: true },
      { event_ID: 2, claim_Audit_Event: true, process_Automation_Event: false, reminder: false },
    ];
    const created: BatchResult = await upsertEvents(client, events);
    const updated = await upsertEvents(client, events.slice(0, 1));
    const services = await upsertProviderCredServices(client, 5021, [
      { providerCred_Key: 5021, credService_Key: 3 },
    ]);
    const bulk = await upsertAllTolerances(
      client,
      Array.from({ length: 120 }, (_, i) => ({ tolerance_Key: i + 1, tolerance1: 1.5 })),
      { chunkSize: 50 },
    );
    let invalid = "";
    try {
      await upsertTolerances(client, [{ tolerance_Key: 1, tolerance1: "x" as unknown as number }]);
    } catch (e) {
      if (e instanceof ValidationError) invalid = `${e.issues[0]?.index}:${e.issues[0]?.path}`;
    }
    const got = [
      created.items.map((i) => i.outcome).join(","),
      updated.items[0]?.outcome,
      services.items[0]?.outcome,
      `${bulk.totals.created}/${bulk.requests}`,
      invalid,
      Object.keys(spec.paths).length, // five batch paths and the login
    ].join(" ");
    const want = "created,created updated created 120/3 0:tolerance1 6";
    if (got !== want) throw new Error(`expected "${want}", got "${got}"`);
    console.log(`consumer program ok: ${got}`);
  } finally {
    await server.close();
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
