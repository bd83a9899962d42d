// One process per run folder: run.lock holds the pid of the process working on it.
//
// The lock appears whole or not at all (a hard link to a file already written), so no process
// ever reads it half-written. A lock whose process died is taken over, and only by the holder of
// a takeover guard (a file created exclusively) that removes it if it still holds the dead pid:
// two processes taking over the same dead lock never remove the lock the other has just made.
import {
  closeSync,
  linkSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { join } from "node:path";
import { LOCK_FILE } from "./config.ts";

export class LockError extends Error {
  override name = "LockError";
}

/** A takeover guard older than this was left by a process killed while holding it. */
const GUARD_STALE_MS = 5_000;
/** A lock holding no pid (written by hand, or a file system without hard links mid-write). */
const UNREADABLE_STALE_MS = 3_000;
/** How long a process waits for a takeover or a half-written lock before it gives up. */
const WAIT_MS = 10_000;

/** A process that has exited but was not reaped yet (Linux: state Z in /proc). */
function isZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z");
  } catch {
    return false;
  }
}

/** Whether `pid` is a running process other than this one (EPERM: another user's). */
function running(pid: number): boolean {
  if (pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return !isZombie(pid);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

const pause = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/** Creates `path` holding this pid, whole, or fails with EEXIST. */
function create(path: string): void {
  const temp = `${path}.${process.pid}.tmp`;
  writeFileSync(temp, String(process.pid), { mode: 0o600 });
  try {
    linkSync(temp, path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== "EPERM" && code !== "ENOTSUP" && code !== "ENOSYS" && code !== "EOPNOTSUPP") {
      throw error;
    }
    // No hard links here: an exclusive create, then the pid (a reader waits for it).
    const fd = openSync(path, "wx", 0o600);
    try {
      writeSync(fd, String(process.pid));
    } finally {
      closeSync(fd);
    }
  } finally {
    rmSync(temp, { force: true });
  }
}

/** The lock's content and age, or undefined when it is gone. */
function look(path: string): { seen: string; ageMs: number } | undefined {
  try {
    const seen = readFileSync(path, "utf8");
    return { seen, ageMs: Date.now() - statSync(path).mtimeMs };
  } catch {
    return undefined;
  }
}

/**
 * Removes `path` if it still holds `seen` (judged stale), under the takeover guard; false when
 * another process holds the guard (the caller looks again). Exported for its test.
 */
export function removeStale(path: string, seen: string): boolean {
  const guard = `${path}.takeover`;
  try {
    writeFileSync(guard, String(process.pid), { mode: 0o600, flag: "wx" });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    const age = look(guard)?.ageMs ?? 0;
    if (age > GUARD_STALE_MS) rmSync(guard, { force: true });
    return false;
  }
  try {
    if (look(path)?.seen === seen) rmSync(path, { force: true });
    return true;
  } finally {
    rmSync(guard, { force: true });
  }
}

/** Refuses a second process on the same run folder (a lock whose process died is taken over). */
export function acquireLock(dir: string): void {
  const path = join(dir, LOCK_FILE);
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    try {
      create(path);
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    const lock = look(path);
    if (lock !== undefined) {
      const text = lock.seen.trim();
      const pid = Number(text);
      const readable = /^\d+$/.test(text) && pid > 0;
      if (readable && running(pid)) {
        throw new LockError(`another vbapi process (pid ${pid}) is working on ${dir}`);
      }
      // A dead holder's lock is taken over; one holding no pid only once no writer could be at it.
      if ((readable || lock.ageMs > UNREADABLE_STALE_MS) && removeStale(path, lock.seen)) continue;
    }
    if (Date.now() > deadline) {
      throw new LockError(
        `cannot lock ${dir}: its run.lock stayed unreadable or kept being taken over for ${WAIT_MS / 1000} s (another vbapi process?)`,
      );
    }
    pause(10);
  }
}

/** Removes the lock if it is this process's. */
export function releaseLock(dir: string): void {
  const path = join(dir, LOCK_FILE);
  if (look(path)?.seen.trim() === String(process.pid)) rmSync(path, { force: true });
}
