// Checking what the user typed: the error for it (exit 2), and the parsers of commander's
// arguments and of flags several commands share.
import { InvalidArgumentError } from "commander";
import type { DisplayMode } from "../display.ts";
import { DELIMITERS } from "../input/detect.ts";
import { io } from "../io.ts";
import { logFormat } from "../log-format.ts";
import { type CliEntity, cliEntities, findEntity } from "../schema.ts";

/** An error the user can fix: printed as is, exit code 2. */
export class UsageError extends Error {
  override name = "UsageError";
}

export const ENTITY_NAMES: string = cliEntities.map((e) => e.name).join(", ");

export function entityArg(name: string): CliEntity {
  const entity = findEntity(name);
  if (!entity) throw new UsageError(`unknown entity "${name}": one of ${ENTITY_NAMES}`);
  return entity;
}

/** A whole number from 1 to 2147483647 (the longest timer, for the ms flags; room enough for counts). */
export function positiveInt(flag: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value) || n < 1 || n > 2_147_483_647) {
      throw new InvalidArgumentError(`${flag} must be a whole number from 1 to 2147483647`);
    }
    return n;
  };
}

export function int32(flag: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^-?\d+$/.test(value) || n < -(2 ** 31) || n > 2 ** 31 - 1) {
      throw new InvalidArgumentError(`${flag} must be a whole number (int32)`);
    }
    return n;
  };
}

export function rateLimitArg(value: string): number | "off" {
  if (value.toLowerCase() === "off") return "off";
  const n = Number(value);
  if (!(n > 0) || !Number.isFinite(n)) {
    throw new InvalidArgumentError("--rate-limit must be a number of requests per second, or off");
  }
  return n;
}

export function delimiterArg(value: string): string {
  const d = DELIMITERS[value.toLowerCase()] ?? DELIMITERS[value];
  if (d === undefined)
    throw new InvalidArgumentError(
      '--delimiter must be one of , ; tab | (or "comma", "semicolon", "pipe")',
    );
  return d;
}

/** A repeatable flag's values, in order. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/**
 * --json, --quiet, else a live bar on a terminal and lines elsewhere. Progress is not a log
 * line: with --log-format json, stderr gets no bar and no progress lines (--json has progress
 * events on stdout).
 */
export function displayMode(flags: { json?: boolean; quiet?: boolean }): DisplayMode {
  if (flags.json) return "json";
  if (flags.quiet || logFormat() === "json") return "quiet";
  return io().stderr.isTTY ? "bar" : "lines";
}
