// A relative path: the config is bundled, and the harness is TypeScript source.

import { defineConfig, mergeConfig } from "vitest/config";
import { redisTestsRun } from "../../lib/redis-harness/src/index.ts";
import shared from "../../vitest.shared.ts";

const { testTimeout } = shared.test ?? {};
/** The files that time real rates across child processes. */
const processes = ["test/end-to-end.test.ts", "test/multiprocess.test.ts"];
const project = (name: string, groupOrder: number, include: string[], exclude: string[] = []) => ({
  test: { name, include, exclude, testTimeout, sequence: { groupOrder } },
});

export default mergeConfig(
  shared,
  defineConfig({
    // Every file starts its own redis-server (lib/redis-harness: a free port each), and the
    // package mostly waits on rates and timeouts (14 s of CPU in 54 s with every file one after
    // another). So two files run at a time, except that the two timing real rates across child
    // processes never run beside each other: multiprocess first, on its own (groupOrder 0), then
    // end-to-end beside the in-process files (under two busy loops, 4 of 5 runs green this way
    // and 1 of 5 with multiprocess after end-to-end: its checks time grants as the workers see
    // them, which a loaded machine bunches).
    test: {
      // Every test here needs a real redis-server (see lib/redis-harness).
      ...(redisTestsRun("the @vbapi-sdk/redis tests")
        ? {
            maxWorkers: 2,
            projects: [
              project("end-to-end", 1, [processes[0] as string]),
              project("in-process", 1, ["test/**/*.test.ts"], processes),
              project("multiprocess", 0, [processes[1] as string]),
            ],
          }
        : { exclude: ["test/**"], passWithNoTests: true }),
    },
  }),
);
