import { fileURLToPath } from "node:url";
import { defineConfig, mergeConfig } from "vitest/config";
import shared from "../../vitest.shared.ts";

export default mergeConfig(
  shared,
  defineConfig({
    // The README example imports this package by name: run it against the source.
    resolve: {
      alias: {
        "@vbapi-sdk/credentialing": fileURLToPath(
          new URL("./src/generated/index.ts", import.meta.url),
        ),
      },
    },
  }),
);
