// `vbapi entities [entity]`: the entities and their fields from the spec, as tables or JSON.
import type { Command } from "commander";
import { EXIT } from "../exit.ts";
import { io, setExitCode } from "../io.ts";
import { safeJson } from "../safe-text.ts";
import { type CliEntity, cliEntities, flagOf } from "../schema.ts";
import { entityArg } from "./args.ts";

function typeText(f: CliEntity["fields"][number]): string {
  return `${f.type}${f.format ? ` (${f.format})` : ""}${f.nullable ? ", nullable" : ""}`;
}

function asJson(e: CliEntity) {
  return {
    name: e.name,
    schema: e.entity,
    path: e.path,
    description: e.description,
    keys: e.keys,
    pathParams: e.pathParams.map((p) => ({ name: p, flag: flagOf(p) })),
    fields: e.fields.map(
      ({ name: n, type, format, required, nullable, maxLength, description }) => ({
        name: n,
        type,
        format: format ?? null,
        required,
        nullable,
        maxLength: maxLength ?? null,
        description,
      }),
    ),
  };
}

/** One entity as a block: its endpoint and key, its description, a table of its fields. */
function asTable(e: CliEntity, width: number): string {
  const cut = (s: string) => (s.length > width ? `${s.slice(0, width - 1)}…` : s);
  const rows = [
    ["field", "type", "required", "max", "description"],
    ...e.fields.map((f) => [
      f.name,
      typeText(f),
      f.required ? "yes" : "",
      f.maxLength === undefined ? "" : String(f.maxLength),
      cut(f.description),
    ]),
  ];
  const widths = [0, 1, 2, 3].map((i) => Math.max(...rows.map((r) => (r[i] as string).length)));
  const table = rows.map((r) =>
    `  ${r.map((c, i) => (i < 4 ? c.padEnd(widths[i] as number) : c)).join("  ")}`.trimEnd(),
  );
  const params = e.pathParams.map((p) => ` ${flagOf(p)} <n>`).join("");
  return [
    `${e.name}${params}   (PUT ${e.path}; key: ${e.keys.join(" + ")})`,
    `  ${cut(e.description)}`,
    ...table,
  ].join("\n");
}

export function entities(name: string | undefined, flags: { json?: boolean }): number {
  const list = name ? [entityArg(name)] : cliEntities;
  if (flags.json) {
    const data = list.map(asJson);
    io().stdout.write(`${safeJson(name ? data[0] : data, 2)}\n`);
    return EXIT.ok;
  }
  // The whole list is an overview (descriptions cut); one entity shows them in full.
  const width = name ? Number.POSITIVE_INFINITY : 70;
  io().stdout.write(`${list.map((e) => asTable(e, width)).join("\n\n")}\n`);
  return EXIT.ok;
}

export function addEntitiesCommand(program: Command): void {
  program
    .command("entities")
    .description(
      "the entities and their fields from the spec: type, required, max length, description",
    )
    .argument("[entity]", "show one entity, descriptions in full")
    .option("--json", "as JSON")
    .addHelpText("after", "\nExamples:\n  vbapi entities\n  vbapi entities events --json")
    .action((entity: string | undefined, flags: { json?: boolean }) => {
      setExitCode(entities(entity, flags));
    });
}
