// End-to-end setup: the reference server (one per test file) and the environment that points
// the built `vbapi` bin at it, plus builders for the runs the tests load.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { type MockServer, startMockServer } from "@vbapi-sdk/mock-server";
import { afterAll, beforeAll } from "vitest";
import { tempDir } from "./helpers.ts";

/** Live bindings: set before the first test of the importing file. */
export let server: MockServer;
export let env: Record<string, string>;

beforeAll(async () => {
  server = await startMockServer({ rateLimit: false });
  env = {
    VBAPI_API_KEY: server.credentials.apiKey,
    VBAPI_TOKEN: server.credentials.token,
    VBAPI_BASE_URL: server.url,
    VBAPI_DATABASE: "",
  };
});
afterAll(() => server.close());

let dbCounter = 0;
/** A database name no other test uses. */
export const db = () => `DB${++dbCounter}`;

export const bodies = (database: string, entity: string) =>
  server.store.list(database, entity).map((r) => r.body);

/** A temp folder with `content` in a CSV file, a database of its own, and a run folder path. */
export function csvRun(content: string, name = "t.csv") {
  const dir = tempDir();
  const file = join(dir, name);
  writeFileSync(file, content);
  return { dir, file, database: db(), out: join(dir, "run") };
}

/** A tolerances CSV of `n` rows, keys 1 to n. */
export const tolerancesCsv = (n: number) =>
  `tolerance_Key,tolerance1\n${Array.from({ length: n }, (_, i) => `${i + 1},${i}`).join("\n")}\n`;

/** `vbapi upsert tolerances <file>` into `database` (rate limit off), run folder `out`. */
export const upsertArgs = (file: string, database: string, out: string, ...more: string[]) => [
  "upsert",
  "tolerances",
  file,
  "--database",
  database,
  "--rate-limit",
  "off",
  "--out",
  out,
  ...more,
];
