// A process that takes the run folder's lock (test/lock.test.ts starts several at once): prints
// "locked" and holds it until the test writes `release`, or "refused" on a LockError.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { acquireLock, LockError, releaseLock } from "../src/run-dir/lock.ts";

const dir = process.argv[2] as string;
try {
  acquireLock(dir);
} catch (error) {
  if (!(error instanceof LockError)) throw error;
  process.stdout.write("refused\n");
  process.exit(0);
}
process.stdout.write("locked\n");
const deadline = Date.now() + 20_000;
const timer = setInterval(() => {
  if (existsSync(join(dir, "release")) || Date.now() > deadline) {
    clearInterval(timer);
    releaseLock(dir);
  }
}, 20);
