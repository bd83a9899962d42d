// When a run folder says something happened, and how long ago. On the same boot, the shorter of
// what the wall clock and the boot's uptime say: a wall clock set forward since (or a process
// whose uptime counts from elsewhere: a time namespace, lxcfs, an `up` edited by hand) never
// makes the time look longer, so rows are never released early; a clock set back makes it look
// shorter (rows are held longer, and the end of the run says the clock is behind). Across boots
// or hosts the wall clocks are not compared at all: see KilledSession (journal.ts).
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

/** Both stamps were taken on one boot of one machine (both with a boot id: Linux). */
export function sameBoot(a: Stamp, b: Stamp): boolean {
  return a.boot !== undefined && a.boot === b.boot && a.up !== undefined && b.up !== undefined;
}

/**
 * Milliseconds from `from` to `to` by the wall clock, and on one boot no more than the uptime
 * says (may be < 0).
 */
export function elapsedMs(from: Stamp, to: Stamp): number {
  const wall = to.wall - from.wall;
  if (!sameBoot(from, to)) return wall;
  return Math.min(wall, ((to.up as number) - (from.up as number)) * 1000);
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
