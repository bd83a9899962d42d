// A row held back behind an earlier row with the same key (its request got a gateway's 504: the
// server behind it may still apply it later) ends a finished run with exit 1 and nothing in
// failed.csv: what exit 1 is said to mean must cover it, and resume then sends the row.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type MockServer, startMockServer } from "@vbapi-sdk/mock-server";
import { afterAll, beforeAll, expect, it } from "vitest";
import { readCsv, readJson, tempDir, vbapi } from "./helpers.ts";

let server: MockServer;
beforeAll(async () => {
  server = await startMockServer({ rateLimit: false });
});
afterAll(() => server.close());

it("a held-back row: exit 1 said to include rows not done yet, and resume sends it", async () => {
  const dir = tempDir();
  const file = join(dir, "t.csv");
  writeFileSync(file, "tolerance_Key,tolerance1\n18,1\n7,7\n18,2\n");
  const out = join(dir, "run");
  const env = {
    VBAPI_BASE_URL: server.url,
    VBAPI_API_KEY: server.credentials.apiKey,
    VBAPI_TOKEN: server.credentials.token,
    VBAPI_DATABASE: "HELD",
  };
  const fault = server.faults.failNext(1, 504, { target: { database: "HELD" } });
  const args = ["upsert", "tolerances", file, "--out", out, "--chunk-size", "1"];
  const r = await vbapi([...args, "--concurrency", "1"], { env });
  fault.cancel();
  expect(r.code, r.stderr).toBe(1);
  // Why it is not done yet is said at the end of the run, in summary.json and in the report.
  expect(r.stderr).toMatch(/1 not done yet \(held back behind an earlier row with the same key/);
  expect(readJson(join(out, "summary.json")).totals).toMatchObject({ pending: 1, heldBack: 1 });
  // The client's retry of the 504 succeeded: nothing failed, one row is held back.
  expect(readCsv(join(out, "failed.csv"))).toEqual([]);
  const html = readFileSync(join(out, "report.html"), "utf8");
  const title = /data-exit-code="1" title="([^"]*)"/.exec(html)?.[1];
  expect(title).toMatch(/not done yet/);
  expect(html).toMatch(/1 row is not done yet \(held back behind an earlier row with the same key/);
  expect(html).not.toMatch(/or not reported on/);
  const help = await vbapi(["--help"]);
  expect(help.stdout).toMatch(/1 +some rows failed, were invalid or are not done yet/);
  const resumed = await vbapi(["resume", out], { env });
  expect(resumed.code, resumed.stderr).toBe(0);
  expect(server.store.get("HELD", "Tolerance", { tolerance_Key: 18 })?.body).toEqual({
    tolerance_Key: 18,
    tolerance1: 2,
  });
});
