import { defineBuildConfig } from "unbuild";

export default defineBuildConfig({
  // The entry point is generated from the spec (src/generated/index.ts).
  entries: [{ input: "src/generated/index", name: "index" }],
  declaration: true,
  rollup: { emitCJS: true },
});
