// When a run folder says something happened, and how long ago: by the machine's uptime when both
// times were taken on the same boot (a wall clock set back or forward since changes nothing),
// else (another boot, another host, a system without a boot id) by the wall clock.
import { readFileSync } from "node:fs";
import { uptime } from "node:os";

/** A moment as a journal's start line records it. */
export interface Stamp {
  /** Epoch milliseconds, this machine's wall clock. */
  wall: number;
  /** The kernel's boot id (Linux), when it can be read. */
  boot?: string;
  /** Seconds since that boot (suspend included), with `boot`. */
  up?: number;
}

let bootId: string | undefined | null = null;

function currentBoot(): string | undefined {
  if (bootId === null) {
    try {
      bootId = readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim() || undefined;
    } catch {
      bootId = undefined;
    }
  }
  return bootId;
}

export function stampNow(): Stamp {
  const boot = currentBoot();
  return boot === undefined ? { wall: Date.now() } : { wall: Date.now(), boot, up: uptime() };
}

/** Milliseconds from `from` to `to`: by uptime on one boot, else by the wall clock (may be < 0). */
export function elapsedMs(from: Stamp, to: Stamp): number {
  const { up: a } = from;
  const { up: b } = to;
  if (from.boot !== undefined && from.boot === to.boot && a !== undefined && b !== undefined) {
    if (b >= a) return (b - a) * 1000;
  }
  return to.wall - from.wall;
}

/** ISO 8601 in UTC, as `Date.prototype.toISOString` writes it: nothing looser is read. */
const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,3})?Z$/;

/** The time of a start line: undefined when its `at` is missing or not ISO 8601 in UTC. */
export function stampOf(entry: Record<string, unknown>): Stamp | undefined {
  const { at, boot, up } = entry;
  const wall = typeof at === "string" && ISO_UTC.test(at) ? Date.parse(at) : Number.NaN;
  if (!Number.isFinite(wall)) return undefined;
  if (typeof boot !== "string" || typeof up !== "number" || !(up >= 0 && up < 2 ** 40)) {
    return { wall };
  }
  return { wall, boot, up };
}
