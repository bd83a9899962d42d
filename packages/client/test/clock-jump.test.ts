// The wall clock may jump (NTP, a suspended laptop, a VM migrated): a bulk run measures its
// waits (record retries, lingering chunks, the concurrency cool-down) on a monotonic clock, so a
// step of an hour either way neither stalls it nor skips its delays.
import { afterEach, describe, expect, it, vi } from "vitest";
import { upsertAllTolerances } from "../src/bulk/index.ts";
import { createVbapiClient } from "../src/client/client.ts";

afterEach(() => {
  vi.restoreAllMocks();
});

/** A VBA whose first answer fails record 1 with a 503 (to be re-sent) and then moves the clock. */
function vbaThatJumps(stepMs: number) {
  const realNow = Date.now.bind(Date);
  let offset = 0;
  vi.spyOn(Date, "now").mockImplementation(() => realNow() + offset);
  let first = true;
  const fetch: typeof globalThis.fetch = async (_input, init) => {
    const records = JSON.parse(String(init?.body)) as { tolerance_Key: number }[];
    const data = records.map((r) => {
      const fail = first && r.tolerance_Key === 1;
      if (fail) {
        first = false;
        setTimeout(() => {
          offset = stepMs;
        }, 5);
      }
      const id = [{ key: "tolerance_Key", value: r.tolerance_Key }];
      return { id, status: fail ? 503 : 201, body: fail ? "busy" : "Created" };
    });
    return new Response(JSON.stringify({ data, error: null, debug: null }), {
      status: 207,
      headers: { "content-type": "application/json" },
    });
  };
  return createVbapiClient({
    baseUrl: "https://vba.test/vbasoftware",
    apiKey: "k",
    token: "t",
    database: "d",
    fetch,
    rateLimit: false,
  });
}

describe("a wall clock that jumps during a bulk run", () => {
  it.each([
    ["an hour back", -3_600_000],
    ["an hour forward", 3_600_000],
  ])("%s: the re-sent record still waits its delay, and the run ends at once", async (_, step) => {
    const client = vbaThatJumps(step);
    const started = performance.now();
    const report = await upsertAllTolerances(
      client,
      [
        { tolerance_Key: 1, tolerance1: 1 },
        { tolerance_Key: 2, tolerance1: 1 },
      ],
      { recordRetryDelayMs: 300 },
    );
    const took = performance.now() - started;
    expect(report.totals.created).toBe(2);
    expect(took).toBeGreaterThanOrEqual(290); // the retry delay was waited, not skipped
    expect(took).toBeLessThan(5_000); // and not stretched by the jump
  });
});
