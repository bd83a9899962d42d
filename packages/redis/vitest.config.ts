// A relative path: the config is bundled, and the harness is TypeScript source.

import { defineConfig, mergeConfig } from "vitest/config";
import { redisTestsRun } from "../../lib/redis-harness/src/index.ts";
import shared from "../../vitest.shared.ts";

export default mergeConfig(
  shared,
  defineConfig({
    // Each file starts its own redis-server; the multi-process tests time real rates, so the
    // files run one after another rather than competing for the two cores.
    test: {
      fileParallelism: false,
      // Every test here needs a real redis-server (see lib/redis-harness).
      ...(redisTestsRun("the @vbapi-sdk/redis tests")
        ? {}
        : { exclude: ["test/**"], passWithNoTests: true }),
    },
  }),
);
