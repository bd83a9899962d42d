// The CLI knows why the SDK stopped a run from the SDK's structure (`report.stopped`,
// `item.stopped`, the answer's own status), never from words (review findings 1 and C): a row VBA
// fails with text that reads like the unreachable stop, or refuses alone with a 403 inside a
// 207, is a failed row like any other: exit 1, in failed.csv, final (resume sends nothing).
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { startMockServer } from "@vbapi-sdk/mock-server";
import { describe, expect, it } from "vitest";
import { readJson, tempDir, vbapi } from "./helpers.ts";

const KEY = "KEY-SECRET-51";
const TOKEN = "TOKEN-SECRET-52";

describe("one row failed by VBA is a failed row, whatever its words or status", () => {
  // Each case has a server of its own: side by side.
  it.concurrent.each([
    [422, "not sent: the run stopped, the server could not be reached (reference check)"],
    [403, "not allowed to change tolerance 3 (plan locked)"],
  ])(
    "HTTP %i for row 3 inside a 207: exit 1, in failed.csv, nothing to resume",
    async (status, message) => {
      const server = await startMockServer({ rateLimit: false, apiKeys: [KEY], tokens: [TOKEN] });
      server.faults.failRecords({
        status,
        predicate: (r) => String((r as { tolerance_Key: unknown }).tolerance_Key) === "3",
        message,
      });
      try {
        const dir = tempDir();
        const file = join(dir, "t.csv");
        const rows = Array.from({ length: 5 }, (_, i) => `${i + 1},${i}`).join("\n");
        writeFileSync(file, `tolerance_Key,tolerance1\n${rows}\n`);
        const out = join(dir, "run");
        const env = {
          VBAPI_API_KEY: KEY,
          VBAPI_TOKEN: TOKEN,
          VBAPI_BASE_URL: server.url,
          HTTPS_PROXY: undefined,
          HTTP_PROXY: undefined,
        };
        const args = ["upsert", "tolerances", file, "--database", "DB", "--rate-limit", "off"];
        const run = await vbapi([...args, "--out", out], { env });
        expect(run.code, run.stderr).toBe(1);
        expect(run.stderr).not.toContain("cannot reach VBA");
        const summary = readJson<{ status: string; totals: Record<string, number> }>(
          join(out, "summary.json"),
        );
        expect(summary.status).toBe("complete");
        expect(summary.totals).toMatchObject({ rows: 5, created: 4, failed: 1, pending: 0 });
        const lines = readFileSync(join(out, "failed.csv"), "utf8").trim().split("\n");
        expect(lines).toHaveLength(2);
        expect(lines[1]).toMatch(/^3,2,/);
        expect(lines[1]).toContain(message.slice(-20));
        // The row is final: a resume has nothing to send and is no credentials stop (exit 3).
        const again = await vbapi(["resume", out], { env });
        expect(again.code, again.stderr).not.toBe(3);
        expect(again.stderr).not.toContain("cannot reach VBA");
        for (const secret of [KEY, TOKEN]) {
          expect(run.stdout + run.stderr + again.stdout + again.stderr).not.toContain(secret);
        }
      } finally {
        await server.close();
      }
    },
  );
});
