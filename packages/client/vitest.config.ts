import { availableParallelism } from "node:os";
import { defineConfig, mergeConfig } from "vitest/config";
import shared from "../../vitest.shared.ts";

export default mergeConfig(
  shared,
  defineConfig({
    test: {
      // Up to 8 concurrent tests in a file: the token-lifetime runs wait on the rate limit, not
      // the CPU.
      maxConcurrency: 8,
      // At least two files at a time (vitest's default is one on a 2-core machine): most of the
      // files' time is spent waiting on rate limits, token lifetimes and the reference server.
      maxWorkers: Math.max(2, availableParallelism() - 1),
      // A worker imports the client, the reference server and OpenTelemetry once, not once per
      // file (measured: a third of the package's CPU). Safe here: every file that changes global
      // state puts it back (vi.unstubAllEnvs, vi.useRealTimers, the OpenTelemetry disable()
      // calls), and each starts its own reference server.
      isolate: false,
      // The reference server's build is imported by Node, as the packages in node_modules are,
      // not transformed by vitest (its real path is outside node_modules).
      server: { deps: { external: [/\/packages\/[^/]+\/dist\//] } },
    },
  }),
);
