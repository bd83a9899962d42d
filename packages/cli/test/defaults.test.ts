// Every default that the CLI README, the client README's bulk tables, the bulk options' doc
// comments and the commands' --help state, compared with what the code does: the exported
// constants, the commander options' own defaults and, where there is no exported constant, the
// code itself (the adaptive concurrency's class, a bulk run, the CLI's run folder). A stated
// default that nothing here checks fails too, so the next one cannot drift unnoticed.
import { readdirSync, readFileSync } from "node:fs";
import { createVbapiClient, defaults, upsertAll } from "@vbapi-sdk/client";
import type { Command, Option } from "commander";
import { describe, expect, it } from "vitest";
// The adaptive concurrency's class is not exported by the package: run it from its source.
import { Concurrency } from "../../client/src/bulk/concurrency.ts";
import { buildProgram } from "../src/program.ts";
import { csvRun, db, env, server } from "./e2e-setup.ts";
import { vbapi } from "./helpers.ts";

const read = (path: string) => readFileSync(new URL(path, import.meta.url), "utf8");
const cliReadme = read("../README.md");
const clientReadme = read("../../client/README.md");
const bulkOptionsSource = read("../../client/src/bulk/options.ts");

/** Whitespace collapsed, Markdown backticks dropped. */
const plain = (text: string) => text.replace(/`/g, "").replace(/\s+/g, " ").trim();

/** The first number in `text` after `pattern` matched it (pattern's group 1). */
function numberIn(text: string, pattern: RegExp): number {
  const m = pattern.exec(plain(text));
  if (!m) throw new Error(`"${plain(text)}" does not say ${pattern}`);
  return Number(m[1]);
}

/** The rows (cells, trimmed) of the first Markdown table after `heading`. */
function tableAfter(markdown: string, heading: string): string[][] {
  const start = markdown.indexOf(`\n${heading}\n`);
  if (start < 0) throw new Error(`no heading ${heading}`);
  const lines = markdown.slice(start).split("\n");
  const first = lines.findIndex((l) => l.startsWith("|"));
  const rows: string[][] = [];
  for (const line of lines.slice(first + 2)) {
    if (!line.startsWith("|")) break;
    rows.push(
      line
        .split(/(?<!\\)\|/)
        .slice(1, -1)
        .map((c) => c.trim()),
    );
  }
  return rows;
}

/** What the adaptive concurrency does, from its own class. */
function adaptive() {
  const initial = (burst: number | undefined) =>
    new Concurrency(
      undefined,
      () => 25,
      () => burst,
    ).limit;
  const afterAnswers = (rate: number | undefined) => {
    const c = new Concurrency(
      undefined,
      () => rate,
      () => undefined,
    );
    c.observe(1000);
    return c.limit;
  };
  const unknownBurst = initial(undefined);
  expect(initial(Number.POSITIVE_INFINITY)).toBe(unknownBurst);
  const unknownRate = afterAnswers(undefined);
  expect(afterAnswers(Number.POSITIVE_INFINITY)).toBe(unknownRate);
  const cap = Math.max(initial(1e6), afterAnswers(1e6));
  return { defaultBurst: initial(defaults.rateLimit.burst), unknownBurst, unknownRate, cap };
}

/** Checks a text that states the adaptive concurrency (the client's docs say it all). */
function checkConcurrencyText(text: string, full: boolean): void {
  const concurrency = adaptive();
  expect(concurrency.cap).toBe(defaults.bulk.concurrency.max);
  expect(numberIn(text, /at most (\d+)/)).toBe(concurrency.cap);
  if (!full) return;
  expect(numberIn(text, /(\d+) with the default rate limit/)).toBe(concurrency.defaultBurst);
  expect(concurrency.defaultBurst).toBe(defaults.rateLimit.burst);
  expect(numberIn(text, /(\d+) when the burst is not known/)).toBe(concurrency.unknownBurst);
  expect(concurrency.unknownBurst).toBe(defaults.bulk.concurrency.initial);
  expect(numberIn(text, /(\d+) when the rate is not known/)).toBe(concurrency.unknownRate);
}

/** The run folder the CLI makes without --out, relative to its working directory. */
async function defaultRunFolder(): Promise<string> {
  const { dir, file, database } = csvRun("tolerance_Key,tolerance1\n1,1\n");
  const args = ["upsert", "tolerances", file, "--database", database, "--rate-limit", "off"];
  const r = await vbapi(args, { env, cwd: dir });
  expect(r.code).toBe(0);
  const [folder, ...more] = readdirSync(`${dir}/vbapi-runs`);
  expect(more).toEqual([]);
  return `./vbapi-runs/${folder}`;
}

describe("stated defaults agree with the code", () => {
  it("the client README's bulk options table", async () => {
    const rows = tableAfter(clientReadme, "## Bulk upserts");
    const checks: Record<string, (stated: string, text: string) => void | Promise<void>> = {
      "`chunkSize`, `maxChunkBytes`": (stated) => {
        expect(numberIn(stated, /^(\d+)/)).toBe(defaults.bulk.chunkSize);
        expect(numberIn(stated, /, (\d+) MiB/) * 1024 * 1024).toBe(defaults.bulk.maxChunkBytes);
      },
      "`concurrency`": (stated, text) => {
        expect(plain(stated)).toMatch(/^adaptive/);
        checkConcurrencyText(`${stated} ${text}`, true);
      },
      "`maxRecordRetries`, `recordRetryDelayMs`": (stated) => {
        expect(numberIn(stated, /^(\d+)/)).toBe(defaults.bulk.maxRecordRetries);
        expect(numberIn(stated, /, (\d+)$/)).toBe(defaults.bulk.recordRetryDelayMs);
      },
      "`lingerMs`": (stated) => expect(numberIn(stated, /^(\d+)$/)).toBe(defaults.bulk.lingerMs),
      "`timeoutMs`, `maxRetries`": (stated) => expect(stated).toBe("the client's"),
      "`onProgress`, `progressIntervalMs`": (stated) =>
        expect(numberIn(stated, /^(\d+)$/)).toBe(defaults.bulk.progressIntervalMs),
      "`report`": async (stated) => {
        // No constant: a run without the option, and one with the other value.
        const client = createVbapiClient({
          baseUrl: server.url,
          apiKey: server.credentials.apiKey,
          token: server.credentials.token,
          database: db(),
          rateLimit: false,
        });
        const records = [{ tolerance_Key: 1, tolerance1: 1 }];
        const byDefault = await upsertAll(client, "Tolerance", records);
        const totals = await upsertAll(client, "Tolerance", records, { report: "totals" });
        expect([byDefault.items.length, totals.items.length]).toEqual([1, 0]);
        expect(stated).toBe('`"items"`');
      },
    };
    const stated = rows.filter(([, value]) => value !== "");
    expect(stated.length).toBeGreaterThan(5);
    for (const [name, value, text] of stated) {
      const check = checks[name as string];
      if (!check) throw new Error(`client README: no check for the stated default of ${name}`);
      await check(value as string, text ?? "");
    }
  });

  it("the client README's rateLimit option", () => {
    const row = tableAfter(clientReadme, "## Options").find(([n]) => n === "`rateLimit`");
    const { requestsPerSecond, burst } = defaults.rateLimit;
    expect(row?.[1]).toBe(`\`{ requestsPerSecond: ${requestsPerSecond}, burst: ${burst} }\``);
  });

  it("the bulk options' doc comments", () => {
    const body = bulkOptionsSource.slice(bulkOptionsSource.indexOf("export interface BulkOptions"));
    const docs = new Map<string, string>();
    for (const m of body.matchAll(/\/\*\*((?:(?!\*\/)[\s\S])*)\*\/\s*(\w+)\??:/g)) {
      if (!docs.has(m[2] as string))
        docs.set(m[2] as string, plain((m[1] as string).replace(/\n\s*\*/g, " ")));
    }
    const checks: Record<string, (doc: string) => void> = {
      chunkSize: (d) => expect(numberIn(d, /Default (\d+)\./)).toBe(defaults.bulk.chunkSize),
      maxChunkBytes: (d) =>
        expect(numberIn(d, /Default (\d+) MiB/) * 1024 * 1024).toBe(defaults.bulk.maxChunkBytes),
      concurrency: (d) => checkConcurrencyText(d, true),
      maxRecordRetries: (d) =>
        expect(numberIn(d, /Default (\d+)\./)).toBe(defaults.bulk.maxRecordRetries),
      recordRetryDelayMs: (d) =>
        expect(numberIn(d, /Default (\d+) ms/)).toBe(defaults.bulk.recordRetryDelayMs),
      lingerMs: (d) => expect(numberIn(d, /Default (\d+) ms/)).toBe(defaults.bulk.lingerMs),
      progressIntervalMs: (d) =>
        expect(numberIn(d, /Default (\d+) ms/)).toBe(defaults.bulk.progressIntervalMs),
      report: (d) => expect(d).toContain('"items" (default)'),
    };
    const stating = [...docs].filter(([, doc]) => /\bdefault\b/i.test(doc));
    expect(stating.length).toBeGreaterThan(5);
    for (const [name, doc] of stating) {
      const check = checks[name];
      if (!check) throw new Error(`options.ts: no check for the stated default of ${name}`);
      check(doc);
    }
  });

  it("the CLI README's flags table", async () => {
    const upsert = commandOf("upsert");
    const rows = tableAfter(cliReadme, "### Flags of `upsert` (and, for reading, `validate`)");
    const checks: Record<string, (stated: string) => void | Promise<void>> = {
      "`--format csv\\|ndjson\\|json`": (s) => {
        expect(s).toBe("from the extension, else detected");
        expect(optionOf(upsert, "--format").defaultValue).toBeUndefined();
      },
      "`--delimiter , ; tab \\|`": (s) => {
        expect(s).toBe("detected from the header");
        expect(optionOf(upsert, "--delimiter").defaultValue).toBeUndefined();
      },
      "`--ignore-unknown-columns`": (s) => {
        expect(s).toBe("an unknown column is an error");
        expect(optionOf(upsert, "--ignore-unknown-columns").defaultValue).toBeUndefined();
      },
      "`--empty-as auto\\|null\\|absent\\|empty-string`": (s) =>
        expect(s).toBe(`\`${optionOf(upsert, "--empty-as").defaultValue}\``),
      "`--timezone-offset Z\\|±HH:MM`": (s) =>
        expect(s).toBe(`\`${optionOf(upsert, "--timezone-offset").defaultValue}\``),
      "`--base-url URL`": (s) => expect(s).toBe("`VBAPI_BASE_URL`, else VBA's"),
      "`--database NAME`": (s) => expect(s).toBe("`VBAPI_DATABASE`"),
      "`--chunk-size N`, `--concurrency N`": (s) => {
        expect(numberIn(s, /the SDK's \((\d+);/)).toBe(defaults.bulk.chunkSize);
        checkConcurrencyText(s, false);
      },
      "`--rate-limit N\\|off`": (s) =>
        expect(numberIn(s, /the SDK's \((\d+)\/s\)/)).toBe(defaults.rateLimit.requestsPerSecond),
      "`--out DIR`": async (s) => {
        expect(s).toBe("`./vbapi-runs/<entity>-<time>-<id>`");
        expect(await defaultRunFolder()).toMatch(
          /^\.\/vbapi-runs\/tolerances-\d{8}-\d{6}-[0-9a-f]{4}$/,
        );
      },
    };
    const stated = rows.filter(([, value]) => value !== "");
    expect(stated.length).toBeGreaterThan(5);
    for (const [flags, value] of stated) {
      const check = checks[flags as string];
      if (!check) throw new Error(`CLI README: no check for the stated default of ${flags}`);
      await check(value as string);
    }
  });

  it("every command's --help", () => {
    const checks: Record<string, (description: string) => void> = {
      "--format": (d) => expect(d).toContain("(default: from the file name, else detected)"),
      "--delimiter": (d) => expect(d).toContain("(default: detected from the header)"),
      "--ignore-unknown-columns": (d) => expect(d).toContain("(default: an error)"),
      "--base-url": (d) => expect(d).toContain(`default ${defaults.baseUrl}`),
      "--chunk-size": (d) =>
        expect(numberIn(d, /default: the SDK's, (\d+)\)/)).toBe(defaults.bulk.chunkSize),
      "--concurrency": (d) => {
        expect(d).toMatch(/default: the SDK's, adaptive/);
        checkConcurrencyText(d, false);
      },
      "--rate-limit": (d) =>
        expect(numberIn(d, /default: the SDK's, (\d+)\)/)).toBe(
          defaults.rateLimit.requestsPerSecond,
        ),
      "--out": (d) => expect(d).toContain("(default: a new folder under ./vbapi-runs/)"),
    };
    const program = buildProgram();
    let checked = 0;
    for (const command of program.commands) {
      const help = plain(command.helpInformation());
      for (const option of command.options) {
        // Commander prints defaultValue itself; a default in prose is ours to check.
        if (!/\bdefault\b/i.test(option.description)) continue;
        const check = checks[option.long ?? ""];
        if (!check) throw new Error(`${command.name()} --help: no check for ${option.flags}`);
        expect(help).toContain(plain(option.description));
        check(option.description);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(8);
  });
});

function commandOf(name: string): Command {
  const command = buildProgram().commands.find((c) => c.name() === name);
  if (!command) throw new Error(`no command ${name}`);
  return command;
}

function optionOf(command: Command, long: string): Option {
  const option = command.options.find((o) => o.long === long);
  if (!option) throw new Error(`${command.name()} has no ${long}`);
  return option;
}
