// `pnpm diff:spec`: the breaking-change gate. Compares the bundled spec with the last released
// one, prints a Markdown report and fails when a breaking change has no major changeset for
// @vbapi-sdk/openapi. `--update` makes the current bundle the released one (run by `pnpm release`).
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, relative, resolve } from "node:path";
import { parseArgs } from "node:util";
import {
  ChangesetError,
  changesetFile,
  changesetsReleasing,
  readChangesets,
} from "@vbapi-sdk/tool-changeset-check/changesets";
import { parse } from "yaml";
import { CHANGESET_FILE, renderChangeset } from "./changelog.ts";
import { diffSpecs } from "./diff.ts";
import { renderReport } from "./report.ts";

const USAGE = `Usage: spec-diff [--base FILE] [--head FILE] [--changesets DIR] [--out FILE] [--report-only]
                 [--changeset | --changeset-check]
       spec-diff --update [--base FILE] [--head FILE]
  --base         the last released spec (default packages/openapi/released/openapi.json)
  --head         the spec to check (default packages/openapi/dist/openapi.json, from \`pnpm build\`)
  --changesets   where pending changesets live (default .changeset)
  --out          also write the Markdown report to FILE
  --report-only  exit 0 even when the gate fails
  --changeset    write the changelog of the differences as the changeset DIR/${CHANGESET_FILE}
                 (major if any is breaking, minor, or patch for docs only; removed when none)
  --changeset-check  fail when DIR/${CHANGESET_FILE} is not what --changeset would write
  --update       copy --head over --base (after a release), then exit
Exit codes: 0 no breaking change or a major changeset covers it, 1 gate failed, 2 usage or input error.`;
export const PACKAGE = "@vbapi-sdk/openapi";

const repo = resolve(import.meta.dirname, "../..");
let values: Record<string, string | boolean | undefined>;
try {
  ({ values } = parseArgs({
    options: {
      base: { type: "string", default: resolve(repo, "packages/openapi/released/openapi.json") },
      head: { type: "string", default: resolve(repo, "packages/openapi/dist/openapi.json") },
      changesets: { type: "string", default: resolve(repo, ".changeset") },
      out: { type: "string" },
      "report-only": { type: "boolean", default: false },
      changeset: { type: "boolean", default: false },
      "changeset-check": { type: "boolean", default: false },
      update: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  }));
} catch (e) {
  console.error(`spec-diff: ${(e as Error).message}\n${USAGE}`);
  process.exit(2);
}
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const base = resolve(String(values.base));
const head = resolve(String(values.head));
const show = (f: string) => relative(process.cwd(), f) || f;

if (!existsSync(head)) {
  console.error(`spec-diff: no spec at ${show(head)}: run \`pnpm build\` first`);
  process.exit(2);
}
if (values.update) {
  mkdirSync(dirname(base), { recursive: true });
  copyFileSync(head, base);
  // Inside the repository the copy is formatted like every other file, so `pnpm lint` passes.
  if (!relative(repo, base).startsWith("..")) {
    const biome = createRequire(resolve(repo, "package.json")).resolve("@biomejs/biome/bin/biome");
    const r = spawnSync(process.execPath, [biome, "format", "--write", base], {
      cwd: repo,
      encoding: "utf8",
    });
    if (r.status !== 0) console.error(`spec-diff: biome format ${show(base)} failed:\n${r.stderr}`);
  }
  console.log(`spec-diff: ${show(base)} is now a copy of ${show(head)}`);
  process.exit(0);
}
if (!existsSync(base)) {
  console.error(
    `spec-diff: no released spec at ${show(base)}: create it with \`spec-diff --update\``,
  );
  process.exit(2);
}

const load = (f: string): unknown => {
  const text = readFileSync(f, "utf8");
  return f.endsWith(".json") ? JSON.parse(text) : parse(text);
};
let report: string;
let breaking: number;
let changeset: string | null;
try {
  const changes = diffSpecs(load(base), load(head));
  breaking = changes.filter((c) => c.severity === "breaking").length;
  report = renderReport(changes, show(base), show(head));
  changeset = renderChangeset(changes, PACKAGE);
} catch (e) {
  console.error(`spec-diff: cannot compare the specs: ${(e as Error).message}`);
  process.exit(2);
}

// The changelog: written (or checked) before the gate reads the changesets.
const changelogFile = resolve(String(values.changesets), CHANGESET_FILE);
const current = existsSync(changelogFile) ? readFileSync(changelogFile, "utf8") : null;
if (values.changeset) {
  if (changeset) {
    mkdirSync(dirname(changelogFile), { recursive: true });
    writeFileSync(changelogFile, changeset);
    console.error(`spec-diff: wrote ${show(changelogFile)}`);
  } else if (current !== null) {
    rmSync(changelogFile);
    console.error(`spec-diff: removed ${show(changelogFile)}: the specs do not differ`);
  }
} else if (values["changeset-check"] && current !== changeset) {
  console.error(
    `spec-diff: ${show(changelogFile)} ${current === null ? "is missing" : changeset ? "is out of date" : "describes changes the spec no longer has"}: run \`pnpm diff:spec --changeset\``,
  );
  process.exit(1);
}

let verdict = "";
let failed = false;
if (breaking) {
  let majors: string[];
  try {
    const pending = readChangesets(resolve(String(values.changesets)));
    majors = changesetsReleasing(pending, PACKAGE, "major").map(changesetFile);
  } catch (e) {
    if (!(e instanceof ChangesetError)) throw e;
    console.error(`spec-diff: ${e.message}`);
    process.exit(2);
  }
  if (majors.length) {
    verdict = `**Gate passed:** ${breaking} breaking change(s), released as a major by ${majors.map((f) => `\`${f}\``).join(", ")}.`;
  } else {
    failed = true;
    verdict =
      `**Gate failed:** ${breaking} breaking change(s) but no changeset releases \`${PACKAGE}\` as a major.\n` +
      `Undo the breaking change(s), or run \`pnpm changeset\` and choose major for ${PACKAGE} ` +
      "(and the packages generated from it).";
  }
}
const text = verdict ? `${report}\n${verdict}\n` : report;
process.stdout.write(text);
if (values.out) {
  mkdirSync(dirname(resolve(String(values.out))), { recursive: true });
  writeFileSync(resolve(String(values.out)), text);
}
if (failed) console.error(`spec-diff: breaking change(s) without a major changeset for ${PACKAGE}`);
process.exit(failed && !values["report-only"] ? 1 : 0);
