// `vbapi template <entity>`: a file to start from, the header row and the spec's example record
// (a placeholder by type where the spec gives no example). In the CSV template, example text
// that would start a spreadsheet formula gets a leading '; numbers stay numbers, so the
// template loads as it is.
import { type Command, Option } from "commander";
import { EXIT } from "../exit.ts";
import { io, setExitCode } from "../io.ts";
import { safeJson, spreadsheetCell } from "../safe-text.ts";
import type { CliEntity } from "../schema.ts";
import { ENTITY_NAMES, entityArg } from "./args.ts";

function placeholder(f: CliEntity["fields"][number]): unknown {
  if (f.type === "integer") return 1;
  if (f.type === "number") return 1.5;
  if (f.type === "boolean") return false;
  if (f.format === "date-time") return "2026-01-01T00:00:00Z";
  return "";
}

function csvCell(v: unknown): string {
  const s =
    v === null || v === undefined ? "" : typeof v === "string" ? spreadsheetCell(v) : String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** The template of `entity` in `format` (csv, ndjson or json). */
export function templateText(entity: CliEntity, format: string): string {
  const example: Record<string, unknown> = {};
  for (const f of entity.fields) {
    const v = entity.example?.[f.name];
    example[f.name] = v !== undefined ? v : placeholder(f);
  }
  if (format === "json") return `${safeJson([example], 2)}\n`;
  if (format === "ndjson") return `${safeJson(example)}\n`;
  const names = entity.fields.map((f) => f.name);
  return `${names.join(",")}\n${names.map((n) => csvCell(example[n])).join(",")}\n`;
}

export function template(name: string, flags: { format: string }): number {
  io().stdout.write(templateText(entityArg(name), flags.format));
  return EXIT.ok;
}

export function addTemplateCommand(program: Command): void {
  program
    .command("template")
    .description("a file to start from: the header row and the spec's example record")
    .argument("<entity>", `one of ${ENTITY_NAMES}`)
    .addOption(
      new Option("--format <format>", "csv, ndjson or json")
        .choices(["csv", "ndjson", "json"])
        .default("csv"),
    )
    .addHelpText(
      "after",
      "\nExamples:\n  vbapi template tolerances > tolerances.csv\n  vbapi template events --format ndjson > events.ndjson",
    )
    .action((entity: string, flags: { format: string }) => {
      setExitCode(template(entity, flags));
    });
}
