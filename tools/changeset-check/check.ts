// Which published packages changed since the last release, and whether pending changesets cover them.
//
// "Since the last release" = from a base commit to the working tree (committed, staged, unstaged
// and untracked files). The base is `--base REF` (its merge-base with HEAD) when given, else the
// newest tag reachable from HEAD (`changeset publish` tags every release), else (nothing released
// yet) the empty tree: every file counts, and an initial-release changeset covers them.
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { type Changeset, changesetFile, readChangesets } from "./changesets.ts";

/** Changes under these folders of the repository root belong to a package without living in it. */
export const SPEC_DIRS: Record<string, string> = { "openapi/": "@vbapi-sdk/openapi" };
/** Files inside a published package that do not change what is published. */
const IGNORED = [
  /^(test|tests|__tests__)\//, // tests
  /(^|\/)[^/]+\.(test|spec)(-d)?\.[cm]?[jt]sx?$/,
  /^CHANGELOG\.md$/, // written by `changeset version`
  /^released\//, // packages/openapi/released: the spec-diff baseline, refreshed by `pnpm release`
];

export class CheckError extends Error {}

export function git(cwd: string, args: string[], input?: string): string {
  try {
    return execFileSync("git", args, {
      cwd,
      encoding: "utf8",
      input,
      stdio: ["pipe", "pipe", "pipe"],
      maxBuffer: 64 * 1024 * 1024,
    });
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new CheckError(`git ${args.join(" ")} failed: ${(err.stderr || err.message).trim()}`);
  }
}
const tryGit = (cwd: string, args: string[]) => {
  try {
    return git(cwd, args).trim();
  } catch {
    return undefined;
  }
};

export interface Base {
  /** A commit or tree id to diff against. */
  id: string;
  /** For messages, e.g. "the last release tag @vbapi-sdk/openapi@1.2.0". */
  label: string;
  /** Whether the base is a commit (false for the empty tree). */
  commit: boolean;
}

export function resolveBase(cwd: string, ref?: string): Base {
  if (tryGit(cwd, ["rev-parse", "--is-inside-work-tree"]) !== "true")
    throw new CheckError(`${cwd} is not a git work tree`);
  const head = tryGit(cwd, ["rev-parse", "--verify", "--quiet", "HEAD^{commit}"]);
  if (ref) {
    if (!tryGit(cwd, ["rev-parse", "--verify", "--quiet", `${ref}^{commit}`]))
      throw new CheckError(`unknown --base ${ref}`);
    const id = head ? tryGit(cwd, ["merge-base", ref, "HEAD"]) : undefined;
    if (!id) throw new CheckError(`${ref} and HEAD have no common ancestor`);
    return { id, label: `${ref} (merge-base ${id.slice(0, 10)})`, commit: true };
  }
  const tag = head ? tryGit(cwd, ["describe", "--tags", "--abbrev=0", "HEAD"]) : undefined;
  if (tag)
    return {
      id: git(cwd, ["rev-parse", `${tag}^{commit}`]).trim(),
      label: `the last release tag ${tag}`,
      commit: true,
    };
  if (tryGit(cwd, ["rev-parse", "--is-shallow-repository"]) === "true") {
    throw new CheckError(
      "shallow clone without a release tag: fetch the full history and tags (git fetch --unshallow --tags) or pass --base REF",
    );
  }
  const empty = git(cwd, ["hash-object", "-t", "tree", "--stdin"], "").trim();
  return { id: empty, label: "the first commit (no release tag yet)", commit: false };
}

/** Files that differ between the base and the working tree, plus untracked ones. */
export function changedFiles(cwd: string, base: Base): string[] {
  const split = (out: string) => out.split("\0").filter(Boolean);
  const diff = split(git(cwd, ["diff", "--name-only", "--no-renames", "-z", base.id, "--"]));
  const untracked = split(git(cwd, ["ls-files", "--others", "--exclude-standard", "-z"]));
  return [...new Set([...diff, ...untracked])].sort();
}

export interface Package {
  name: string;
  dir: string;
}
/** The published (non-private) packages under packages/. */
export function publishedPackages(cwd: string): Package[] {
  const root = join(cwd, "packages");
  if (!existsSync(root)) return [];
  return readdirSync(root, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(root, d.name, "package.json")))
    .map((d) => ({
      dir: `packages/${d.name}/`,
      json: JSON.parse(readFileSync(join(root, d.name, "package.json"), "utf8")),
    }))
    .filter(({ json }) => json.private !== true && typeof json.name === "string")
    .map(({ dir, json }) => ({ name: json.name, dir }));
}

/** A package.json whose only change is its version (as `changeset version` does) is no change. */
function onlyVersionChanged(cwd: string, base: Base, file: string): boolean {
  if (!base.commit || !existsSync(join(cwd, file))) return false;
  const before = tryGit(cwd, ["show", `${base.id}:${file}`]);
  if (before === undefined) return false;
  try {
    const strip = (text: string) => JSON.stringify({ ...JSON.parse(text), version: undefined });
    return strip(before) === strip(readFileSync(join(cwd, file), "utf8"));
  } catch {
    return false;
  }
}

/** Changed files by the published package they belong to. */
export function touchedPackages(cwd: string, base: Base, files: string[]): Map<string, string[]> {
  const packages = publishedPackages(cwd);
  const touched = new Map<string, string[]>();
  const add = (name: string, file: string) =>
    touched.set(name, [...(touched.get(name) ?? []), file]);
  for (const file of files) {
    const spec = Object.keys(SPEC_DIRS).find((dir) => file.startsWith(dir));
    if (spec) {
      add(SPEC_DIRS[spec] as string, file);
      continue;
    }
    const pkg = packages.find((p) => file.startsWith(p.dir));
    if (!pkg) continue;
    const rest = file.slice(pkg.dir.length);
    if (IGNORED.some((re) => re.test(rest))) continue;
    if (rest === "package.json" && onlyVersionChanged(cwd, base, file)) continue;
    add(pkg.name, file);
  }
  return touched;
}

export interface Result {
  base: Base;
  touched: Map<string, string[]>;
  changesets: Changeset[];
  /** Touched packages that no pending changeset names. */
  missing: string[];
  /** Empty changesets ("no release needed") cover every package. */
  acknowledgedBy: string[];
}

export function check(cwd: string, ref?: string): Result {
  const base = resolveBase(cwd, ref);
  const touched = touchedPackages(cwd, base, changedFiles(cwd, base));
  const changesets = readChangesets(join(cwd, ".changeset"));
  const acknowledgedBy = changesets.filter((c) => c.releases.length === 0).map(changesetFile);
  const covered = new Set(changesets.flatMap((c) => c.releases.map((r) => r.name)));
  const missing = acknowledgedBy.length
    ? []
    : [...touched.keys()].filter((p) => !covered.has(p)).sort();
  return { base, touched, changesets, missing, acknowledgedBy };
}
