import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  ChangesetError,
  changesetFile,
  changesetsReleasing,
  readChangesets,
} from "@vbapi-sdk/tool-changeset-check/changesets";
import { describe, expect, it } from "vitest";

// spec-diff reads changesets with changeset-check's reader (@changesets/parse underneath): these
// tests pin what the gate relies on.
const folder = (files: Record<string, string>) => {
  const dir = mkdtempSync(join(tmpdir(), "spec-diff-changesets-"));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
};
const releases = (text: string) => readChangesets(folder({ "a.md": text }))[0]?.releases;

describe("reading changesets", () => {
  it("reads the package → bump frontmatter, double- or single-quoted", () => {
    const text = `---\n"@vbapi-sdk/openapi": major\n'@vbapi-sdk/client': minor\nunscoped: "patch"\n---\n\nRenamed a field.\n`;
    expect(releases(text)).toEqual([
      { name: "@vbapi-sdk/openapi", type: "major" },
      { name: "@vbapi-sdk/client", type: "minor" },
      { name: "unscoped", type: "patch" },
    ]);
  });

  it("rejects an unquoted @scope (not YAML: `changeset version` would fail on it too)", () => {
    const dir = folder({ "bad.md": "---\n@vbapi-sdk/events: patch\n---\n\nText.\n" });
    expect(() => readChangesets(dir)).toThrow(
      /^\.changeset\/bad\.md: could not parse changeset - invalid YAML in frontmatter\. .*YAML error: /,
    );
  });

  it("handles CRLF line ends and empty changesets", () => {
    expect(releases('---\r\n"@vbapi-sdk/openapi": major\r\n---\r\nText\r\n')).toEqual([
      { name: "@vbapi-sdk/openapi", type: "major" },
    ]);
    expect(releases("---\n---\n\nNo release needed.\n")).toEqual([]);
  });

  it("rejects, naming the file, what `changeset version` would reject", () => {
    const dir = folder({ "no-front.md": "# Just text\n" });
    expect(() => readChangesets(dir)).toThrow(ChangesetError);
    expect(() => readChangesets(dir)).toThrow(/^\.changeset\/no-front\.md: could not parse/);
  });

  it("reads the .md files but README.md, dot-files and the config", () => {
    const dir = folder({
      "config.json": "{}",
      "README.md": '---\n"@vbapi-sdk/openapi": major\n---\n',
      ".draft.md": '---\n"@vbapi-sdk/openapi": major\n---\n',
      "brave-fox.md": '---\n"@vbapi-sdk/openapi": minor\n---\n\nAdded a field.\n',
      "calm-owl.md": '---\n"@vbapi-sdk/openapi": major\n"@vbapi-sdk/client": major\n---\n',
    });
    const changesets = readChangesets(dir);
    expect(changesets.map(changesetFile)).toEqual([
      ".changeset/brave-fox.md",
      ".changeset/calm-owl.md",
    ]);
    const majors = (pkg: string) => changesetsReleasing(changesets, pkg, "major").map((c) => c.id);
    expect(majors("@vbapi-sdk/openapi")).toEqual(["calm-owl"]);
    expect(majors("@vbapi-sdk/events")).toEqual([]);
    expect(readChangesets(join(dir, "missing"))).toEqual([]);
  });
});
