import { createVbapiClient, upsertEvents, type VbaEvent } from "@vbapi-sdk/events";
import { startMockServer } from "@vbapi-sdk/mock-server";

// A local reference server that behaves like VBA (use your real base URL and credentials instead).
const server = await startMockServer();
try {
  const client = createVbapiClient({
    baseUrl: server.url,
    apiKey: server.credentials.apiKey, // or env VBAPI_API_KEY
    token: server.credentials.token, // or env VBAPI_TOKEN; may be an async function
    database: "demo", // or env VBAPI_DATABASE; sent on every call
  });

  const events: VbaEvent[] = [
    {
      event_ID: 1,
      claim_Audit_Event: false,
      process_Automation_Event: false,
      reminder: true,
      subject: "Call provider",
    },
    {
      event_ID: 2,
      claim_Audit_Event: true,
      process_Automation_Event: false,
      reminder: false,
      priority: "HIGH",
    },
  ];
  const result = await upsertEvents(client, events);
  for (const item of result.items) {
    console.log(item.index, item.key.event_ID, item.outcome, item.status, item.message);
  }
  console.log(
    `${result.succeeded} succeeded, ${result.failed} failed (activity ${result.activityId})`,
  );
} finally {
  await server.close();
}
