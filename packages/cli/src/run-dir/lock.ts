// One process per run folder: run.lock holds the pid of the process working on it (created and
// taken over as every lock file is: see ../lock-file.ts).
import { rmSync } from "node:fs";
import { join } from "node:path";
import {
  createLockFile,
  processAlive,
  readLockFile,
  removeStaleLockFile,
  UNREADABLE_STALE_MS,
} from "../lock-file.ts";
import { LOCK_FILE } from "./config.ts";

export class LockError extends Error {
  override name = "LockError";
}

/** How long a process waits for a takeover or a half-written lock before it gives up. */
const WAIT_MS = 10_000;

const pause = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/** Refuses a second process on the same run folder (a lock whose process died is taken over). */
export function acquireLock(dir: string): void {
  const path = join(dir, LOCK_FILE);
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    try {
      createLockFile(path, String(process.pid));
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    const lock = readLockFile(path);
    if (lock !== undefined) {
      const text = lock.seen.trim();
      const pid = Number(text);
      const readable = /^\d+$/.test(text) && pid > 0;
      if (readable && pid !== process.pid && processAlive(pid)) {
        throw new LockError(`another vbapi process (pid ${pid}) is working on ${dir}`);
      }
      // A dead holder's lock is taken over; one holding no pid only once no writer could be at it.
      if ((readable || lock.ageMs > UNREADABLE_STALE_MS) && removeStaleLockFile(path, lock.seen))
        continue;
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
  if (readLockFile(path)?.seen.trim() === String(process.pid)) rmSync(path, { force: true });
}
