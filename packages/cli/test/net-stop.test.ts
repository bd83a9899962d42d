// The CLI knows the SDK stopped a run because VBA could not be reached from the SDK's structured
// `report.stopped` / `item.stopped`, never from words (review finding 1): a row VBA failed with
// text that reads like that stop is a failed row like any other.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { startMockServer } from "@vbapi-sdk/mock-server";
import { describe, expect, it } from "vitest";
import { readJson, tempDir, vbapi } from "./helpers.ts";

describe("server text that reads like the SDK's unreachable stop", () => {
  it("a row VBA fails with 'the server could not be reached' is failed: exit 1, in failed.csv", async () => {
    const server = await startMockServer({
      rateLimit: false,
      apiKeys: ["KEY-SECRET-51"],
      tokens: ["TOKEN-SECRET-52"],
    });
    server.faults.failRecords({
      status: 422,
      predicate: (r) => String((r as { tolerance_Key: unknown }).tolerance_Key) === "3",
      message: "not sent: the run stopped, the server could not be reached (reference check)",
    });
    try {
      const dir = tempDir();
      const file = join(dir, "t.csv");
      const rows = Array.from({ length: 5 }, (_, i) => `${i + 1},${i}`).join("\n");
      writeFileSync(file, `tolerance_Key,tolerance1\n${rows}\n`);
      const out = join(dir, "run");
      const env = {
        VBAPI_API_KEY: "KEY-SECRET-51",
        VBAPI_TOKEN: "TOKEN-SECRET-52",
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
      const failed = join(out, "failed.csv");
      expect(existsSync(failed)).toBe(true);
      const lines = readFileSync(failed, "utf8").trim().split("\n");
      expect(lines).toHaveLength(2);
      expect(lines[1]).toMatch(/^3,2,/);
      expect(lines[1]).toContain("the server could not be reached (reference check)");
      for (const secret of ["KEY-SECRET-51", "TOKEN-SECRET-52"]) {
        expect(run.stdout + run.stderr).not.toContain(secret);
      }
    } finally {
      await server.close();
    }
  });

  it("a row VBA fails 403 inside a 207 is failed, not refused credentials: exit 1, in failed.csv", async () => {
    const server = await startMockServer({
      rateLimit: false,
      apiKeys: ["KEY-SECRET-53"],
      tokens: ["TOKEN-SECRET-54"],
    });
    server.faults.failRecords({
      status: 403,
      predicate: (r) => String((r as { tolerance_Key: unknown }).tolerance_Key) === "3",
      message: "not allowed to change tolerance 3 (plan locked)",
    });
    try {
      const dir = tempDir();
      const file = join(dir, "t.csv");
      const rows = Array.from({ length: 5 }, (_, i) => `${i + 1},${i}`).join("\n");
      writeFileSync(file, `tolerance_Key,tolerance1\n${rows}\n`);
      const out = join(dir, "run");
      const env = {
        VBAPI_API_KEY: "KEY-SECRET-53",
        VBAPI_TOKEN: "TOKEN-SECRET-54",
        VBAPI_BASE_URL: server.url,
        HTTPS_PROXY: undefined,
        HTTP_PROXY: undefined,
      };
      const args = ["upsert", "tolerances", file, "--database", "DB", "--rate-limit", "off"];
      const run = await vbapi([...args, "--out", out], { env });
      expect(run.code, run.stderr).toBe(1);
      const summary = readJson<{ status: string; totals: Record<string, number> }>(
        join(out, "summary.json"),
      );
      expect(summary.status).toBe("complete");
      expect(summary.totals).toMatchObject({ rows: 5, created: 4, failed: 1, pending: 0 });
      const lines = readFileSync(join(out, "failed.csv"), "utf8").trim().split("\n");
      expect(lines).toHaveLength(2);
      expect(lines[1]).toMatch(/^3,2,/);
      expect(lines[1]).toContain("plan locked");
      // Nothing is left to resume: the row is final.
      const again = await vbapi(["resume", out], { env });
      expect(again.code, again.stderr).not.toBe(3);
      for (const secret of ["KEY-SECRET-53", "TOKEN-SECRET-54"]) {
        expect(run.stdout + run.stderr + again.stdout + again.stderr).not.toContain(secret);
      }
    } finally {
      await server.close();
    }
  });
});
