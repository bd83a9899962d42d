import { defineConfig, mergeConfig } from "vitest/config";
import shared from "../../vitest.shared.ts";

export default mergeConfig(
  shared,
  defineConfig({
    // Each test builds fixture packages (esbuild, then the TypeScript compiler for the
    // declarations, once or twice) in a child process it waits for: pure CPU, no waits to bound.
    // About 2 s on an idle 2-core machine; beside the rest of `pnpm test` in CI, one took past
    // the shared 20 s and failed for it. A build that hangs is killed after 60 s (the tests'
    // spawnSync timeout: a synchronous child blocks this timeout until it ends).
    test: { testTimeout: 90_000 },
  }),
);
