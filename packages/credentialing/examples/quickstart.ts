import {
  createVbapiClient,
  type ProviderCredService,
  upsertProviderCredServices,
} from "@vbapi-sdk/credentialing";
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

  // Every record must carry the credentialing process key given as the first argument.
  const providerCredKey = 5021;
  const services: ProviderCredService[] = [
    { providerCred_Key: providerCredKey, credService_Key: 3, percentage: 40 },
    { providerCred_Key: providerCredKey, credService_Key: 4, percentage: 60 },
  ];
  const result = await upsertProviderCredServices(client, providerCredKey, services);
  for (const item of result.items) {
    console.log(item.key.credService_Key, item.outcome, item.status, item.message);
  }
  console.log(`${result.succeeded} succeeded, ${result.failed} failed`);
} finally {
  await server.close();
}
