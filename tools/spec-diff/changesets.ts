// Reads the pending changesets in .changeset/*.md: YAML frontmatter mapping package names to bumps.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

export type Bump = "major" | "minor" | "patch" | "none";
export interface Changeset {
  file: string;
  releases: Record<string, Bump>;
}

/** One frontmatter line, as `changeset add` writes it: "@scope/name": major (quotes optional). */
const RELEASE = /^\s*(["']?)([^"':\s]+)\1\s*:\s*(["']?)(major|minor|patch|none)\3\s*$/;

/** The package → bump map of one changeset file; an empty one for a file without frontmatter. */
export function parseChangeset(text: string): Record<string, Bump> {
  const lines = text.replace(/^\uFEFF/, "").split(/\r?\n/);
  const end = lines.findIndex((l, i) => i > 0 && l.trim() === "---");
  if (lines[0]?.trim() !== "---" || end < 0) return {};
  const releases: Record<string, Bump> = {};
  for (const line of lines.slice(1, end)) {
    const m = RELEASE.exec(line);
    if (m?.[2] && m[4]) releases[m[2]] = m[4] as Bump;
  }
  return releases;
}

/** Pending changesets (README.md and other non-changeset files are skipped). */
export function readChangesets(dir: string): Changeset[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith(".md") && f.toLowerCase() !== "readme.md")
    .sort()
    .map((file) => ({ file, releases: parseChangeset(readFileSync(join(dir, file), "utf8")) }));
}

/** The changeset files that release `pkg` as a major. */
export const majorChangesets = (changesets: Changeset[], pkg: string) =>
  changesets.filter((c) => c.releases[pkg] === "major").map((c) => c.file);
