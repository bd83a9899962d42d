import { defineBuildConfig } from "unbuild";

export default defineBuildConfig({
  entries: ["src/index", "src/cli"],
  declaration: true,
  clean: true,
  // The private spec model ships TypeScript sources only: its code goes into dist, so the
  // published package imports nothing of it.
  rollup: { emitCJS: true, inlineDependencies: ["@vbapi-sdk/tool-spec-model"] },
});
