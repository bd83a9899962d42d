// One process per run folder: run.lock holds the pid of the process working on it.
import { closeSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import { join } from "node:path";
import { LOCK_FILE } from "./config.ts";

export class LockError extends Error {
  override name = "LockError";
}

/** A process that has exited but was not reaped yet (Linux: state Z in /proc). */
function isZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z");
  } catch {
    return false;
  }
}

/** Refuses a second process on the same run folder (a lock whose process died is taken over). */
export function acquireLock(dir: string): void {
  const path = join(dir, LOCK_FILE);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, "wx");
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      const pid = Number(readFileSync(path, "utf8").trim());
      let alive = false;
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid) {
        try {
          process.kill(pid, 0);
          alive = !isZombie(pid);
        } catch (e) {
          alive = (e as NodeJS.ErrnoException).code === "EPERM";
        }
      }
      if (alive) throw new LockError(`another vbapi process (pid ${pid}) is working on ${dir}`);
      rmSync(path, { force: true });
    }
  }
  throw new Error(`cannot lock ${dir}`);
}

export function releaseLock(dir: string): void {
  rmSync(join(dir, LOCK_FILE), { force: true });
}
