#!/usr/bin/env node
// Peak RSS of `vbapi upsert` for a 100,000-row and a 1,000,000-row generated CSV, against the
// reference server with its rate limit off (and the CLI's too). The CLI reports its own peak RSS
// (process.resourceUsage().maxRSS) in summary.json; the target is 1M within 1.5x of 100k.
//
//   pnpm --filter @vbapi-sdk/cli build && node packages/cli/bench/memory.mjs [--rows 100000,1000000] [--json]
//
// Writes the CSVs and run folders to a temporary folder and removes it afterwards. Exits 1 when
// the ratio is above 1.5 or a run did not load every row.
import { spawn } from "node:child_process";
import { once } from "node:events";
import { createWriteStream, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { startMockServer } from "@vbapi-sdk/mock-server";

const { values } = parseArgs({
  options: {
    rows: { type: "string", default: "100000,1000000" },
    json: { type: "boolean", default: false },
  },
});
const sizes = values.rows.split(",").map(Number);
const BIN = fileURLToPath(new URL("../dist/cli.mjs", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "vbapi-cli-memory-"));

async function writeCsv(path, rows) {
  const out = createWriteStream(path);
  out.write("tolerance_Key,tolerance1,group_ID,payment_Method,entry_User,entry_Date\n");
  for (let i = 1; i <= rows; i++) {
    const line = `${i},${(i % 1000) / 8},GRP${String(i % 997).padStart(5, "0")},ACH,BILLING01,2026-01-05T08:30:00Z\n`;
    if (!out.write(line)) await once(out, "drain");
  }
  out.end();
  await once(out, "finish");
}

async function run(rows) {
  const server = await startMockServer({ rateLimit: false });
  try {
    const file = join(dir, `tolerances-${rows}.csv`);
    await writeCsv(file, rows);
    const out = join(dir, `run-${rows}`);
    const started = Date.now();
    const child = spawn(
      process.execPath,
      [
        BIN,
        "upsert",
        "tolerances",
        file,
        "--database",
        "BENCH",
        "--rate-limit",
        "off",
        "--quiet",
        "--out",
        out,
      ],
      {
        env: {
          ...process.env,
          VBAPI_API_KEY: server.credentials.apiKey,
          VBAPI_TOKEN: server.credentials.token,
          VBAPI_BASE_URL: server.url,
        },
        stdio: ["ignore", "inherit", "inherit"],
      },
    );
    const [code] = await once(child, "close");
    const summary = JSON.parse(readFileSync(join(out, "summary.json"), "utf8"));
    const stored = server.store.count("BENCH", "Tolerance");
    if (code !== 0 || stored !== rows || summary.totals.created !== rows) {
      throw new Error(
        `run of ${rows} rows: exit ${code}, ${stored} stored, ${summary.totals.created} created`,
      );
    }
    return {
      rows,
      peakRssMiB: summary.peakRssBytes / 2 ** 20,
      seconds: (Date.now() - started) / 1000,
      requests: summary.requests,
    };
  } finally {
    await server.close();
  }
}

try {
  const results = [];
  for (const rows of sizes) results.push(await run(rows));
  const base = results[0];
  const last = results.at(-1);
  const ratio = last.peakRssMiB / base.peakRssMiB;
  if (values.json) console.log(JSON.stringify({ results, ratio }));
  else {
    for (const r of results) {
      console.log(
        `${r.rows.toLocaleString("en-US").padStart(10)} rows: peak RSS ${r.peakRssMiB.toFixed(1)} MiB, ${r.seconds.toFixed(1)} s, ${r.requests} requests, ${Math.round(r.rows / r.seconds).toLocaleString("en-US")} rows/s`,
      );
    }
    console.log(`ratio ${ratio.toFixed(2)}x (target: at most 1.5x)`);
  }
  if (ratio > 1.5) process.exitCode = 1;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
