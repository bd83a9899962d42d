// The naive baseline every bulk figure is compared with: a plain sequential loop that sends
// fixed chunks one at a time with raw fetch and counts the records the 207 reports as upserted.
import type { EntityRecord } from "@vbapi-sdk/client";
import type { ServerHandle } from "./server.ts";

export async function naiveLoop(
  server: ServerHandle,
  records: readonly EntityRecord<"Event">[],
  chunkSize: number,
): Promise<number> {
  let ok = 0;
  for (let i = 0; i < records.length; i += chunkSize) {
    const res = await fetch(`${server.url}/events-batch`, {
      method: "PUT",
      headers: server.headers,
      body: JSON.stringify(records.slice(i, i + chunkSize)),
    });
    const body = (await res.json()) as { data: { status: number }[] };
    if (res.status !== 207) throw new Error(`naive loop: HTTP ${res.status}`);
    for (const item of body.data) if (item.status < 300) ok++;
  }
  return ok;
}
