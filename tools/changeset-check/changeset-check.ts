// `pnpm check:changeset`: fails when a published package (or the spec in openapi/) changed since
// the last release and no pending changeset in .changeset/ names it. See check.ts for the rules.
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { ChangesetError, changesetFile } from "./changesets.ts";
import { CheckError, check } from "./check.ts";

const USAGE = `Usage: changeset-check [--base REF] [--cwd DIR]
  --base  compare with the merge-base of REF and HEAD (e.g. origin/main on a pull request);
          default: the newest tag reachable from HEAD, or the first commit when nothing was released
  --cwd   the repository (default: this monorepo)
Exit codes: 0 every changed package has a changeset, 1 some have none, 2 usage or git error.`;
const SHOWN_FILES = 8;

let values: { base?: string; cwd?: string; help?: boolean };
try {
  ({ values } = parseArgs({
    options: {
      base: { type: "string" },
      cwd: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  }));
} catch (e) {
  console.error(`changeset-check: ${(e as Error).message}\n${USAGE}`);
  process.exit(2);
}
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}

const cwd = resolve(values.cwd ?? resolve(import.meta.dirname, "../.."));
try {
  const r = check(cwd, values.base ?? process.env.CHANGESET_BASE);
  const since = `since ${r.base.label}`;
  if (!r.touched.size) {
    console.log(`changeset-check: no published package changed ${since}`);
    process.exit(0);
  }
  if (!r.missing.length) {
    const by = r.acknowledgedBy.length
      ? `acknowledged without a release by ${r.acknowledgedBy.join(", ")}`
      : `covered by ${r.changesets.map(changesetFile).join(", ")}`;
    console.log(
      `changeset-check: ${[...r.touched.keys()].sort().join(", ")} changed ${since}, ${by}`,
    );
    process.exit(0);
  }
  const lines = [`changeset-check: these published packages changed ${since} without a changeset:`];
  for (const name of r.missing) {
    const files = r.touched.get(name) ?? [];
    lines.push(`  ${name}`, ...files.slice(0, SHOWN_FILES).map((f) => `    ${f}`));
    if (files.length > SHOWN_FILES) lines.push(`    … and ${files.length - SHOWN_FILES} more`);
  }
  lines.push(
    "Run `pnpm changeset`, select these packages and a bump (major for a breaking change), and commit",
    "the .changeset/*.md file it writes. A change that needs no release: `pnpm changeset --empty`.",
  );
  console.error(lines.join("\n"));
  process.exit(1);
} catch (e) {
  if (!(e instanceof CheckError || e instanceof ChangesetError)) throw e;
  console.error(`changeset-check: ${e.message}`);
  process.exit(2);
}
