import { availableParallelism } from "node:os";
import { defineConfig, mergeConfig } from "vitest/config";
import shared from "../../vitest.shared.ts";

export default mergeConfig(
  shared,
  defineConfig({
    // At least two files at a time (vitest's default is one on a 2-core machine): most of the
    // files' time is spent waiting on the bins they start and the reference server, so the
    // package took 134 s one file after another and 82 s two at a time, for the same CPU.
    test: { maxWorkers: Math.max(2, availableParallelism() - 1) },
  }),
);
