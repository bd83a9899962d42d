// The run folder's names and run.json: what a run was asked to do, enough to resume it.

import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { InputFormat } from "../input/types.ts";
import { safeJson } from "../safe-text.ts";

export const RUN_FILE = "run.json";
export const JOURNAL_FILE = "journal.ndjson";
export const SUMMARY_FILE = "summary.json";
export const SUCCEEDED_FILE = "succeeded.csv";
export const LOCK_FILE = "run.lock";

export function failedFileName(format: InputFormat): string {
  return format === "csv" ? "failed.csv" : "failed.ndjson";
}

/** What a run was asked to do: enough to resume it. Never holds credentials. */
export interface RunConfig {
  version: 1;
  command: "upsert";
  createdAt: string;
  /**
   * How the CLI's cells in the run's CSV files are guarded for spreadsheets: 2, a leading `'` is
   * always the guard (safe-text.ts `cellText` undoes it); absent in run folders made before.
   */
  cells?: 2;
  /** CLI entity name (`tolerances`). */
  entity: string;
  input: {
    /** Absolute path, or "-" for stdin. */
    path: string;
    size: number | undefined;
    sha256: string | undefined;
    format: InputFormat;
    gzip: boolean;
    delimiter: string | undefined;
    /** CSV header as read (the failed file repeats these columns). */
    header: string[] | undefined;
  };
  convert: {
    map: Record<string, string | null> | undefined;
    ignoreColumns: string[];
    ignoreUnknownColumns: boolean;
    emptyAs: string;
    timezoneOffset: string;
  };
  pathParams: Record<string, number> | undefined;
  client: {
    baseUrl: string;
    database: string;
    chunkSize: number | undefined;
    concurrency: number | undefined;
    /** Requests per second, "off", or undefined for the SDK's default. */
    rateLimit: number | "off" | undefined;
  };
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === "object" && !Array.isArray(v);

/** What is missing from a run.json that claims to be version 1: the fields every reader uses. */
function missingField(config: Record<string, unknown>): string | undefined {
  if (typeof config.entity !== "string") return "no entity";
  const input = config.input;
  if (!isObject(input) || typeof input.path !== "string" || typeof input.format !== "string")
    return "no input";
  const client = config.client;
  if (!isObject(client) || typeof client.baseUrl !== "string") return "no client";
  return undefined;
}

export function readRunConfig(dir: string): RunConfig {
  const path = join(dir, RUN_FILE);
  let config: unknown;
  try {
    config = JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new Error(
      code === "ENOENT"
        ? `${dir} is not a vbapi run folder (no ${RUN_FILE})`
        : `${path} is not readable (${code ?? "invalid JSON"})`,
    );
  }
  if (!isObject(config)) throw new Error(`${path} is damaged (not a JSON object)`);
  if (config.version !== 1 || config.command !== "upsert") {
    throw new Error(`${path} was written by another version of vbapi`);
  }
  const missing = missingField(config);
  if (missing) throw new Error(`${path} is damaged (${missing})`);
  return config as unknown as RunConfig;
}

/**
 * Writes run.json whole: to a temporary file, flushed to the disk, then renamed over it, and the
 * rename flushed (the folder), so that a crash or a power cut leaves the old file or the new one.
 */
export function writeRunConfig(dir: string, config: RunConfig): void {
  const tmp = join(dir, `${RUN_FILE}.tmp`);
  const fd = openSync(tmp, "w");
  try {
    writeFileSync(fd, `${safeJson(config, 2)}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, join(dir, RUN_FILE));
  try {
    const folder = openSync(dir, "r");
    try {
      fsyncSync(folder);
    } finally {
      closeSync(folder);
    }
  } catch {
    // A folder cannot be opened or flushed everywhere (Windows): the rename stands.
  }
}
