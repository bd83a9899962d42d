import { defineConfig, mergeConfig } from "vitest/config";
import shared from "../../vitest.shared.ts";

// Up to 8 concurrent tests in a file: the token-lifetime runs wait on the rate limit, not the CPU.
export default mergeConfig(shared, defineConfig({ test: { maxConcurrency: 8 } }));
