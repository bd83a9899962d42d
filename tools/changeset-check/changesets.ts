// Pending changesets, read as `changeset version` will read them: the .changeset/*.md files
// (not README.md, not dot-files: the listing rule of @changesets/read), each parsed by
// @changesets/parse. Shared by changeset-check and spec-diff (one reader, one type).
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import parseChangeset from "@changesets/parse";
import type { NewChangeset, VersionType } from "@changesets/types";

/** One pending changeset: `id` is the file name without `.md`; `releases` is [{ name, type }]. */
export type Changeset = NewChangeset;
export type Bump = VersionType;

/** A changeset file that @changesets/parse rejects (so `changeset version` would too). */
export class ChangesetError extends Error {
  override name = "ChangesetError";
}

/** The file a changeset was read from, relative to the repository: ".changeset/<id>.md". */
export const changesetFile = (changeset: Changeset) => `.changeset/${changeset.id}.md`;

/** The pending changesets in `dir` (a .changeset folder), sorted by file name; none when it is absent. */
export function readChangesets(dir: string): Changeset[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => !f.startsWith(".") && f.endsWith(".md") && !/^README\.md$/i.test(f))
    .sort()
    .map((file) => {
      const text = readFileSync(join(dir, file), "utf8");
      try {
        return { id: file.slice(0, -".md".length), ...parseChangeset(text) };
      } catch (e) {
        // The first lines say what is wrong; the rest shows an example or repeats the file.
        const lines = (e as Error).message.split("\n");
        const end = lines.findIndex((l) =>
          /^(Example|Expected format|Received|\w+ content)/.test(l),
        );
        const reason = lines
          .slice(0, end < 0 ? undefined : end)
          .join(" ")
          .trim();
        throw new ChangesetError(`.changeset/${file}: ${reason}`);
      }
    });
}

/** The changesets that release `pkg` with the given bump. */
export const changesetsReleasing = (changesets: Changeset[], pkg: string, bump: Bump) =>
  changesets.filter((c) => c.releases.some((r) => r.name === pkg && r.type === bump));
