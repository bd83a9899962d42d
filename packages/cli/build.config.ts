import { defineBuildConfig } from "unbuild";

export default defineBuildConfig({
  entries: ["src/index", "src/cli"],
  declaration: true,
  clean: true,
  // Dependencies stay external (installed with the package); the spec is read at run time.
  rollup: { emitCJS: false },
});
