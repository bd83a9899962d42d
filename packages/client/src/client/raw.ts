// The generated `paths`, with the `vbasoftware-database` header optional: the client sends it.
import type { paths } from "../generated/schema.ts";

type DatabaseHeader = "vbasoftware-database";

type WithOptionalDatabase<Op> = Op extends { parameters: { header: infer H } }
  ? Omit<Op, "parameters"> & {
      parameters: Omit<Op["parameters"], "header"> & {
        header?: Omit<H, DatabaseHeader> & { [K in DatabaseHeader]?: string };
      };
    }
  : Op;

/** `paths` as the raw client sees it: identical, except that the database header is optional. */
export type VbapiPaths = {
  [P in keyof paths]: {
    [M in keyof paths[P]]: M extends "parameters" ? paths[P][M] : WithOptionalDatabase<paths[P][M]>;
  };
};
