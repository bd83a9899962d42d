import {
  type ArmorCodeExCode,
  type ClaimPromptPay,
  createVbapiClient,
  type Tolerance,
  upsertArmorCodeExCodes,
  upsertClaimPromptPays,
  upsertTolerances,
} from "@vbapi-sdk/billing";
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

  const tolerances: Tolerance[] = [
    { tolerance_Key: 310, tolerance1: 2.5, group_ID: "GRP00417", payment_Method: "ACH" },
    { tolerance_Key: 311, tolerance1: 1 },
  ];
  const promptPays: ClaimPromptPay[] = [
    {
      claimPromptPay_Key: 1204,
      plan_ID: "PPO-GOLD",
      prompt_Pay_Duration: 30,
      prompt_Pay_Duration_Type: "D",
    },
  ];
  const exCodes: ArmorCodeExCode[] = [
    { armorCodeExCode_Key: 77, armor_Code: "A1042", ex_Code: "EX42" },
  ];

  const t = await upsertTolerances(client, tolerances);
  const p = await upsertClaimPromptPays(client, promptPays);
  const a = await upsertArmorCodeExCodes(client, exCodes);
  for (const item of t.items)
    console.log("tolerance", item.key.tolerance_Key, item.outcome, item.message);
  console.log(
    `${t.succeeded + p.succeeded + a.succeeded} succeeded, ${t.failed + p.failed + a.failed} failed`,
  );
} finally {
  await server.close();
}
