// The overhead section's step shares: each step of the SDK's request path timed in isolation,
// in this process, on the same records, with no network. The steps:
// - validate: `validateRecords` over the records (what upsertBatch checks before sending);
// - serialize: `JSON.stringify` of the records (raw fetch pays it too);
// - parse JSON: `JSON.parse` of the server's real 207 answer to them (raw fetch's `res.json()`);
// - the rest of the SDK: `upsertBatch` (validate: false) through a fetch that answers from memory
//   with those bytes, minus serialize, parse and that fetch alone: the transport (limiter,
//   token, timeout, headers, capped read), the 207's matching to the records, the result, spans.
// Each is the median of `rounds` timings of `reps` calls, interleaved so drift hits all alike.
import { createVbapiClient, type EntityRecord, validateRecords } from "@vbapi-sdk/client";
import { API_KEY, DATABASE, TOKEN } from "./server.ts";
import { median } from "./stats.ts";

type Records = EntityRecord<"Event">[];

export interface StepTimes {
  validateUs: number;
  serializeUs: number;
  parseUs: number;
  /** upsertBatch with `validate: false` through the in-memory fetch, that fetch excluded. */
  sdkRestUs: number;
  /** The in-memory fetch alone (building the Response and reading it). */
  fakeFetchUs: number;
}

/** Times the steps on `records`; `answer` is the server's 207 body for them (bytes). */
export async function stepTimes(
  records: Records,
  answer: Uint8Array,
  rounds = 15,
  reps = 200,
): Promise<StepTimes> {
  const fake = async () =>
    new Response(answer.slice(), {
      status: 207,
      headers: { "content-type": "application/json", "content-length": String(answer.length) },
    });
  const client = createVbapiClient({
    baseUrl: "http://127.0.0.1:9/vbasoftware",
    apiKey: API_KEY,
    token: TOKEN,
    database: DATABASE,
    rateLimit: false,
    logLevel: "error",
    fetch: fake,
  });
  const text = new TextDecoder().decode(answer);
  const steps: Record<keyof StepTimes, () => Promise<unknown> | unknown> = {
    validateUs: () => {
      if (validateRecords("Event", records).length > 0) throw new Error("steps: invalid records");
    },
    serializeUs: () => JSON.stringify(records),
    parseUs: () => JSON.parse(text),
    sdkRestUs: async () => {
      const result = await client.upsertBatch("Event", records, { validate: false });
      if (result.items.length !== records.length) throw new Error("steps: items lost");
    },
    fakeFetchUs: async () => (await fake()).arrayBuffer(),
  };
  const samples = Object.fromEntries(Object.keys(steps).map((k) => [k, [] as number[]])) as Record<
    keyof StepTimes,
    number[]
  >;
  for (let r = 0; r < rounds + 2; r++) {
    for (const [name, fn] of Object.entries(steps) as [keyof StepTimes, () => unknown][]) {
      const t0 = performance.now();
      for (let i = 0; i < reps; i++) await fn();
      if (r >= 2) samples[name].push(((performance.now() - t0) * 1000) / reps); // 2 warm-up rounds
    }
  }
  const m = (k: keyof StepTimes) => median(samples[k]);
  return {
    validateUs: m("validateUs"),
    serializeUs: m("serializeUs"),
    parseUs: m("parseUs"),
    // upsertBatch (validate: false) serializes and parses too, and calls the in-memory fetch.
    sdkRestUs: Math.max(0, m("sdkRestUs") - m("serializeUs") - m("parseUs") - m("fakeFetchUs")),
    fakeFetchUs: m("fakeFetchUs"),
  };
}

/** The server's 207 body for `records` (one real request, raw fetch). */
export async function answerOf(
  url: string,
  headers: Record<string, string>,
  records: Records,
): Promise<Uint8Array> {
  const res = await fetch(`${url}/events-batch`, {
    method: "PUT",
    headers,
    body: JSON.stringify(records),
  });
  const body = new Uint8Array(await res.arrayBuffer());
  if (res.status !== 207) throw new Error(`steps: expected HTTP 207, got ${res.status}`);
  return body;
}
