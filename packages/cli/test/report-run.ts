// The run the HTML report tests render: a real `vbapi upsert` (the built CLI) against the
// reference server, over loopback, with rows the server refuses, invalid rows, and 429s from
// the server (its own rate limit, and two answered 429 for certain). Its server messages, file
// name, column name and database are hostile HTML; its cells hold distinctive values the report
// must never show; its credentials are distinctive so the report can be searched for them.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { type MockServer, startMockServer } from "@vbapi-sdk/mock-server";
import { type Result, tempDir, vbapi } from "./helpers.ts";

export const API_KEY = "K3Y-report-7d1e0c55a9";
export const TOKEN = "T0KEN-report-b81f2a6c40";

/** Server messages (per record) that try to break out of the page in each way. */
export const MESSAGE_SCRIPT = "Conflict <script>alert('msg')</script>";
export const MESSAGE_ATTR = `Bad "><img src=x onerror=alert('attr')> '><svg onload=alert(1)>`;
export const MESSAGE_STYLE =
  "Locked </style><style>body{display:none}</style></title>\u202e\x1b[2J";
/** A file name and a database that are HTML too (a file name cannot hold a slash). */
export const FILE_NAME = `"><img src=x onerror=alert('file')>&amp;.csv`;
export const DATABASE = "DB</title><script>alert('db')</script>";
/** A column name (renamed by --map) that ends up in the invalid rows' messages. */
export const COLUMN = "<b onmouseover=alert('col')>tol</b>";
/** Record values: in the input, in failed.csv, never in the report. */
export const CELL_VALUE = "ZEBRA-cell-value";
export const INVALID_VALUE = "QUOKKA-not-a-number";

/** Rows (1-based; key = row) and what happens to them. */
export const ROWS = 60;
export const REFUSED_409 = [7, 14];
export const REFUSED_422 = [21];
export const REFUSED_423 = [33];
export const INVALID = [30, 45];

export interface ReportRun {
  server: MockServer;
  env: Record<string, string>;
  dir: string;
  file: string;
  out: string;
  result: Result;
}

/** Loads the hostile file once; the caller closes `server`. */
export async function reportRun(): Promise<ReportRun> {
  const server = await startMockServer({
    apiKeys: [API_KEY],
    tokens: [TOKEN],
    // VBA's limit, tighter than the CLI's: the first wave of requests is answered 429.
    rateLimit: { requestsPerSecond: 10, burst: 3 },
    latency: { fixedMs: 40, jitterMs: 40 },
  });
  const env = {
    VBAPI_API_KEY: API_KEY,
    VBAPI_TOKEN: TOKEN,
    VBAPI_BASE_URL: server.url,
    VBAPI_DATABASE: DATABASE,
  };
  const dir = tempDir();
  const file = join(dir, FILE_NAME);
  const lines = [`tolerance_Key,${COLUMN},group_ID`];
  for (let row = 1; row <= ROWS; row++) {
    lines.push(`${row},${INVALID.includes(row) ? INVALID_VALUE : row / 10},${CELL_VALUE}-${row}`);
  }
  writeFileSync(file, `${lines.join("\n")}\n`);
  writeFileSync(join(dir, "map.json"), JSON.stringify({ [COLUMN]: "tolerance1" }));
  const refuse = (keys: number[], status: number, message: string) =>
    server.faults.failRecords({
      keys: keys.map((k) => ({ tolerance_Key: k })),
      status,
      message,
      target: { database: DATABASE },
    });
  // And whatever the timing (the server's bucket refills while a busy machine spreads the
  // first wave out): the first two requests are answered 429.
  server.faults.failNext(2, 429);
  refuse(REFUSED_409, 409, MESSAGE_SCRIPT);
  refuse(REFUSED_422, 422, MESSAGE_ATTR);
  refuse(REFUSED_423, 423, MESSAGE_STYLE);
  const out = join(dir, "run");
  const result = await vbapi(
    [
      "upsert",
      "tolerances",
      file,
      "--map",
      join(dir, "map.json"),
      "--rate-limit",
      "40",
      "--concurrency",
      "6",
      "--chunk-size",
      "10",
      "--out",
      out,
    ],
    { env },
  );
  return { server, env, dir, file, out, result };
}
