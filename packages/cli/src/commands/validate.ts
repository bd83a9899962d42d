// `vbapi validate <entity> <file|->`: the same reading and checking as upsert, offline: every
// invalid row (row, column, reason) and every key that occurs twice. Nothing is sent.
import type { Command } from "commander";
import { Converter } from "../convert.ts";
import { count, fmt } from "../count.ts";
import { EXIT } from "../exit.ts";
import { openInput } from "../input/open.ts";
import { io, setExitCode } from "../io.ts";
import { log } from "../log-format.ts";
import { safeJson, terminalText } from "../safe-text.ts";
import { rowConverter } from "../session/rows.ts";
import { ENTITY_NAMES } from "./args.ts";
import { inputPath, type ReadFlags, readingOf, readOptions } from "./read-flags.ts";

type ValidateFlags = ReadFlags & { json?: boolean };

export async function validate(
  entityName: string,
  file: string,
  flags: ValidateFlags,
): Promise<number> {
  const { entity, pathParams, convert: options } = readingOf(entityName, flags);
  const converter = new Converter(entity, { ...options, pathParams });
  const input = await openInput({
    path: inputPath(file),
    format: flags.format,
    delimiter: flags.delimiter,
  });
  // Column names come from the file: shown as text, never acted on by the terminal.
  const out = (line: string) => io().stdout.write(`${terminalText(line)}\n`);
  const event = (e: Record<string, unknown>) => io().stdout.write(`${safeJson(e)}\n`);
  let rows = 0;
  let invalid = 0;
  let duplicates = 0;
  const keys = new Map<string, number>();
  // main's signal (a program's stop): looked at between rows, and it closes an input that
  // stalls (stdin from a producer that went quiet), so the wait for the next row ends.
  const signal = io().signal;
  let aborted = false;
  const onAbort = () => input.close();
  signal?.addEventListener("abort", onAbort, { once: true });
  try {
    const convert = rowConverter(converter, input);
    for await (const r of input.rows) {
      if (signal?.aborted) {
        aborted = true;
        break;
      }
      rows++;
      const converted = convert(r);
      if (converted.issues.length > 0) {
        invalid++;
        if (flags.json) event({ event: "invalid", row: r.row, issues: converted.issues });
        else
          for (const i of converted.issues)
            out(`row ${r.row}${i.column ? `, column "${i.column}"` : ""}: ${i.message}`);
        continue;
      }
      const key = JSON.stringify(entity.keys.map((k) => converted.record[k]));
      const first = keys.get(key);
      if (first === undefined) keys.set(key, r.row);
      else {
        duplicates++;
        if (flags.json)
          event({ event: "duplicate", row: r.row, firstRow: first, keyFields: entity.keys });
        else
          out(
            `warning: row ${r.row} has the same key (${entity.keys.join(", ")}) as row ${first}: the later one wins`,
          );
      }
    }
  } catch (error) {
    // The input closed by the abort may end its read with an error: the abort is what happened.
    if (!signal?.aborted) throw error;
  } finally {
    signal?.removeEventListener("abort", onAbort);
    input.close();
  }
  if (signal?.aborted) aborted = true;
  if (aborted) {
    const message = `aborted after ${count(rows, "row")}: the file was not read to its end`;
    if (flags.json) event({ event: "error", message, exitCode: EXIT.interrupted });
    log("error", message, { prefix: "vbapi: " });
    return EXIT.interrupted;
  }
  if (flags.json) event({ event: "done", rows, invalid, duplicates, valid: rows - invalid });
  else
    io().stderr.write(
      `${count(rows, "row")}: ${fmt(rows - invalid)} valid, ${fmt(invalid)} invalid, ${count(duplicates, "repeated key")}\n`,
    );
  return invalid > 0 ? EXIT.rowsFailed : EXIT.ok;
}

export function addValidateCommand(program: Command): void {
  const command = program
    .command("validate")
    .description(
      "check a file offline (nothing is sent): every invalid row with its column and reason, and repeated keys",
    )
    .argument("<entity>", `one of ${ENTITY_NAMES}`)
    .argument("<file>", "CSV, NDJSON or JSON array, optionally .gz; - reads stdin");
  readOptions(command)
    .option("--json", "NDJSON events on stdout (invalid, duplicate, done)")
    .addHelpText(
      "after",
      `\nExit codes: 0 every row is valid, 1 some row is invalid, 2 usage or input error.\n\nExamples:\n  vbapi validate tolerances tolerances.csv\n  vbapi validate events events.json --json`,
    )
    .action(async (entity: string, file: string, flags: ValidateFlags) => {
      setExitCode(await validate(entity, file, flags));
    });
}
