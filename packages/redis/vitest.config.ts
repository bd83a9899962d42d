import { defineConfig, mergeConfig } from "vitest/config";
import shared from "../../vitest.shared.ts";

export default mergeConfig(
  shared,
  defineConfig({
    // Each file starts its own redis-server; the multi-process tests time real rates, so the
    // files run one after another rather than competing for the two cores.
    test: { fileParallelism: false },
  }),
);
