// Lock files shared by the run folder's lock (run-dir/lock.ts) and the login lock of the token
// cache (token-cache.ts): a lock appears whole or not at all (a hard link to a file already
// written), and a stale one is removed only by the holder of a takeover guard (a file created
// exclusively), and only while it still holds what was judged stale, so two processes taking
// over the same dead lock never remove the lock the other has just made.
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

/** A takeover guard older than this was left by a process killed while holding it. */
const GUARD_STALE_MS = 5_000;
/** A lock that cannot be read (empty, garbage) older than this is stale (no writer takes so long). */
export const UNREADABLE_STALE_MS = 3_000;

/** A process that has exited but was not reaped yet (Linux: state Z in /proc). */
function isZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z");
  } catch {
    return false;
  }
}

/** Whether `pid` is a running process of this host (EPERM: another user's; a zombie is not). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return !isZombie(pid);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Creates `path` holding `content`, whole, or fails with EEXIST. */
export function createLockFile(path: string, content: string): void {
  const temp = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  writeFileSync(temp, content, { mode: 0o600, flag: "wx" });
  try {
    linkSync(temp, path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== "EPERM" && code !== "ENOTSUP" && code !== "ENOSYS" && code !== "EOPNOTSUPP") {
      throw error;
    }
    // No hard links here: an exclusive create, then the content (a reader waits for it).
    const fd = openSync(path, "wx", 0o600);
    try {
      writeSync(fd, content);
    } finally {
      closeSync(fd);
    }
  } finally {
    rmSync(temp, { force: true });
  }
}

/** A lock file's content and age, or undefined when it is gone. */
export function readLockFile(path: string): { seen: string; ageMs: number } | undefined {
  try {
    const seen = readFileSync(path, "utf8");
    return { seen, ageMs: Date.now() - statSync(path).mtimeMs };
  } catch {
    return undefined;
  }
}

/**
 * Removes `path` if it still holds `seen` (judged stale), under the takeover guard; false when
 * another process holds the guard (the caller looks again).
 */
export function removeStaleLockFile(path: string, seen: string): boolean {
  const guard = `${path}.takeover`;
  try {
    writeFileSync(guard, String(process.pid), { mode: 0o600, flag: "wx" });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    const age = readLockFile(guard)?.ageMs ?? 0;
    if (age > GUARD_STALE_MS) rmSync(guard, { force: true });
    return false;
  }
  try {
    if (readLockFile(path)?.seen === seen) rmSync(path, { force: true });
    return true;
  } finally {
    rmSync(guard, { force: true });
  }
}
