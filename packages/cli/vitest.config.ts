import { availableParallelism } from "node:os";
import { defineConfig, mergeConfig } from "vitest/config";
import shared from "../../vitest.shared.ts";

export default mergeConfig(
  shared,
  defineConfig({
    test: {
      // One file more than there are cores: most of the files' time is spent waiting (on the
      // bins they start, the reference server, the shipped 10 s and 15 s limits), so a third
      // file computes while one waits. Measured on 2 cores (isolate: false, other work beside
      // it): two at a time 50 s wall and 62-65 s CPU, three 40-43 s and 67-70 s, four 39 s and
      // 71 s. On cores the other work keeps busy, three and four took as long as two.
      maxWorkers: availableParallelism() + 1,
      // Most tests run the bin several times in a row, each a Node start-up that a loaded
      // machine (the whole suite on two cores) makes seconds long: the timeout only catches a
      // hang. What a test promises about time it reads from the run (summary.json's timings).
      testTimeout: 60_000,
      // A worker runs many files, importing vitest, the client, the reference server and
      // OpenTelemetry once, not once per file. Safe here: test/per-file.ts makes every file
      // evaluate the test helpers and ../src afresh (their servers, temp folders and hooks are
      // the file's own), and no file leaves global state changed (main-io.test.ts sets env
      // variables and watches process.stdout for a moment, and puts them back; no fake timers;
      // the in-process code, the built `main` included, removes the process listeners it adds).
      isolate: false,
      setupFiles: ["test/per-file.ts"],
      // The workspace packages' builds (the client, the reference server...) are imported by
      // Node, as the packages in node_modules are: vitest would transform them (their real paths
      // are outside node_modules) and test/per-file.ts would then evaluate them again per file.
      server: { deps: { external: [/\/packages\/[^/]+\/dist\//] } },
    },
  }),
);
