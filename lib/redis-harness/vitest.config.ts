import { defineConfig, mergeConfig } from "vitest/config";
import shared from "../../vitest.shared.ts";
import { redisTestsRun } from "./src/index.ts";

export default mergeConfig(
  shared,
  defineConfig({
    test: redisTestsRun("the redis-harness tests")
      ? {}
      : { exclude: ["test/**"], passWithNoTests: true },
  }),
);
