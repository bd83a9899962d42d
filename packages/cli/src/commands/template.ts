// `vbapi template <entity>`: a file to start from, the header row and the spec's example record
// (a placeholder by type where the spec gives no example).
import { type Command, Option } from "commander";
import { EXIT } from "../exit.ts";
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
  const s = v === null || v === undefined ? "" : String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function template(name: string, flags: { format: string }): number {
  const entity = entityArg(name);
  const example: Record<string, unknown> = {};
  for (const f of entity.fields) {
    const v = entity.example?.[f.name];
    example[f.name] = v !== undefined ? v : placeholder(f);
  }
  if (flags.format === "json") process.stdout.write(`${JSON.stringify([example], null, 2)}\n`);
  else if (flags.format === "ndjson") process.stdout.write(`${JSON.stringify(example)}\n`);
  else {
    const names = entity.fields.map((f) => f.name);
    process.stdout.write(
      `${names.join(",")}\n${names.map((n) => csvCell(example[n])).join(",")}\n`,
    );
  }
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
      process.exitCode = template(entity, flags);
    });
}
