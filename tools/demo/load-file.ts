// `pnpm demo`, part two: loading a file with the `vbapi` command. Writes a spreadsheet export
// with a few bad rows, loads it with the live bar, shows the failed rows, fixes failed.csv the
// way a person would in a spreadsheet, and loads it again. The first run's HTML report is kept
// (the rest of the demo's folder is removed) and its path printed.
import { spawn } from "node:child_process";
import {
  copyFileSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import type { MockServer } from "@vbapi-sdk/mock-server";
import { parse } from "csv-parse/sync";
import { stringify } from "csv-stringify/sync";
import { DEMO_USER } from "./demo-user.ts";
import * as data from "./sample-data.ts";
import { formatTable } from "./table.ts";

const ROWS = 10_000;
const DATABASE = "DEMO_FILES";

const require = createRequire(import.meta.url);
const cliPackage = require.resolve("@vbapi-sdk/cli/package.json");
const BIN = join(
  dirname(cliPackage),
  (require(cliPackage) as { bin: { vbapi: string } }).bin.vbapi,
);

interface Summary {
  exitCode: number;
  totals: { rows: number; created: number; updated: number; failed: number; invalid: number };
  requests: number;
  timings: { sessionMs: number };
  files: { failed: string };
}

/** Runs `vbapi` with the terminal attached (so its live bar shows), returns the exit code. */
function vbapi(args: string[], server: MockServer, cwd: string): Promise<number> {
  console.log(`\n$ vbapi ${args.join(" ")}`);
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd,
    stdio: "inherit",
    env: {
      ...process.env,
      VBAPI_API_KEY: server.credentials.apiKey,
      // The CLI logs in with these (no VBAPI_TOKEN) and caches the ID token in a private folder.
      VBAPI_TOKEN: undefined,
      VBAPI_USERNAME: DEMO_USER.username,
      VBAPI_PASSWORD: DEMO_USER.password,
      VBAPI_CLIENT_ID: DEMO_USER.clientId,
      VBAPI_CLIENT_CODE: DEMO_USER.clientCode,
      XDG_CACHE_HOME: join(cwd, ".cache"),
      VBAPI_BASE_URL: server.url,
      VBAPI_DATABASE: DATABASE,
    },
  });
  return new Promise((resolve) => child.on("close", (code) => resolve(code ?? -1)));
}

/** A European spreadsheet export: BOM, semicolons, CRLF, its own column names, four bad rows. */
function writeExport(path: string): void {
  const lines = ["\uFEFFTolerance_Key;Tolerance1;Group_ID;Payment_Method;Entry_User;Entry_Date"];
  let i = 0;
  for (const t of data.tolerances(ROWS, 11)) {
    i++;
    const cells = [
      t.tolerance_Key,
      t.tolerance1,
      t.group_ID,
      t.payment_Method,
      t.entry_User,
      "2026-01-05",
    ].map(String);
    if (i === 42) cells[1] = "2,5"; // a decimal comma
    if (i === 777) cells[2] = "GRP00417 (the Smith Manufacturing group)"; // longer than 20
    if (i === 1500) cells[1] = ""; // a required field left empty
    if (i === 3000) cells[0] = `A${t.tolerance_Key}`; // not a number
    lines.push(cells.join(";"));
  }
  writeFileSync(path, `${lines.join("\r\n")}\r\n`);
}

/** What a person would do in a spreadsheet: correct each failed row, keep the rest of the file. */
function fixFailedRows(failedCsv: string, fixedCsv: string): void {
  const rows = parse(readFileSync(failedCsv), { delimiter: ";", columns: true }) as Record<
    string,
    string
  >[];
  for (const row of rows) {
    if (row.Tolerance1 === "2,5") row.Tolerance1 = "2.5";
    if (row.Tolerance1 === "") row.Tolerance1 = "1.25";
    if ((row.Group_ID ?? "").length > 20) row.Group_ID = "GRP00417";
    if (row.Tolerance_Key?.startsWith("A")) row.Tolerance_Key = row.Tolerance_Key.slice(1);
  }
  writeFileSync(fixedCsv, stringify(rows, { header: true, delimiter: ";" }));
}

/** Returns true when the file path did what it should: first run exit 1, fixed file exit 0, every row stored. */
export async function loadFiles(server: MockServer): Promise<boolean> {
  const dir = mkdtempSync(join(tmpdir(), "vbapi-demo-"));
  try {
    console.log(`\nLoading a file with the vbapi command (files in ${dir})`);
    writeExport(join(dir, "tolerances.csv"));
    // The uploads above emptied the server's burst allowance: let it refill (50 at 25/s).
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const first = await vbapi(
      ["upsert", "tolerances", "tolerances.csv", "--chunk-size", "100", "--out", "run-1"],
      server,
      dir,
    );
    const run1 = JSON.parse(readFileSync(join(dir, "run-1", "summary.json"), "utf8")) as Summary;
    const failed = parse(readFileSync(run1.files.failed), {
      delimiter: ";",
      columns: true,
    }) as Record<string, string>[];
    console.log(`\nThe failed rows (${relative(dir, run1.files.failed)}):\n`);
    console.log(
      formatTable(
        ["_row", "Tolerance_Key", "_status", "_message"],
        failed.map((f) => [f._row ?? "", f.Tolerance_Key ?? "", f._status ?? "", f._message ?? ""]),
      ),
    );
    fixFailedRows(run1.files.failed, join(dir, "fixed.csv"));
    const report = keepReport(join(dir, "run-1"));
    const second = await vbapi(
      ["upsert", "tolerances", "fixed.csv", "--out", "run-2"],
      server,
      dir,
    );
    const run2 = JSON.parse(readFileSync(join(dir, "run-2", "summary.json"), "utf8")) as Summary;
    console.log();
    console.log(
      formatTable(
        ["run", "rows", "created", "updated", "failed", "invalid", "requests", "exit code"],
        [
          ["tolerances.csv", ...figures(run1)],
          ["fixed.csv (the failed rows)", ...figures(run2)],
        ],
      ),
    );
    const stored = server.store.count(DATABASE, "Tolerance");
    console.log(
      `Stored in database ${DATABASE}: Tolerance: ${stored.toLocaleString("en-US")} of ${ROWS.toLocaleString("en-US")} rows`,
    );
    if (report) {
      console.log(`The first run's report, a page to open in a browser (kept): ${report}`);
    }
    return first === 1 && second === 0 && stored === ROWS && report !== undefined;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Copies the run's report.html (written by `vbapi upsert` at the end of the run) out of the
 * demo's folder, which is removed, into a folder of its own; undefined when the run wrote none.
 */
function keepReport(runDir: string): string | undefined {
  const page = join(runDir, "report.html");
  if (!existsSync(page)) {
    console.log(`no report.html in ${runDir}`);
    return undefined;
  }
  const kept = join(mkdtempSync(join(tmpdir(), "vbapi-demo-report-")), "report.html");
  copyFileSync(page, kept);
  return kept;
}

function figures(s: Summary): (string | number)[] {
  return [
    s.totals.rows,
    s.totals.created,
    s.totals.updated,
    s.totals.failed,
    s.totals.invalid,
    s.requests,
    s.exitCode,
  ];
}
