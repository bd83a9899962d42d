// Shared vitest settings: every package writes a JSON report that `.ci/run` sums up.
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    reporters: ["default", "json"],
    outputFile: { json: "test-results/vitest.json" },
    testTimeout: 20_000,
    typecheck: { enabled: true, include: ["test/**/*.test-d.ts"] },
  },
});
