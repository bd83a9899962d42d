// The CLI's own version (from its package.json), shown by --version and written to summary.json.
import pkg from "../package.json" with { type: "json" };

export const CLI_VERSION: string = pkg.version;
