import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { majorChangesets, parseChangeset, readChangesets } from "../changesets.ts";

describe("parseChangeset", () => {
  it("reads the package → bump frontmatter, quoted or not", () => {
    const text = `---\n"@vbapi-sdk/openapi": major\n'@vbapi-sdk/client': minor\n@vbapi-sdk/events: patch\n---\n\nRenamed a field.\n`;
    expect(parseChangeset(text)).toEqual({
      "@vbapi-sdk/openapi": "major",
      "@vbapi-sdk/client": "minor",
      "@vbapi-sdk/events": "patch",
    });
  });

  it("handles CRLF line ends and empty changesets", () => {
    expect(parseChangeset('---\r\n"@vbapi-sdk/openapi": major\r\n---\r\nText\r\n')).toEqual({
      "@vbapi-sdk/openapi": "major",
    });
    expect(parseChangeset("---\n---\n\nNo release needed.\n")).toEqual({});
  });

  it("ignores files without frontmatter and a --- further down", () => {
    expect(parseChangeset('# Changesets\n\n---\n"@vbapi-sdk/openapi": major\n---\n')).toEqual({});
  });
});

describe("readChangesets", () => {
  it("reads the .md files but README.md and the config", () => {
    const dir = mkdtempSync(join(tmpdir(), "spec-diff-changesets-"));
    writeFileSync(join(dir, "config.json"), "{}");
    writeFileSync(join(dir, "README.md"), '---\n"@vbapi-sdk/openapi": major\n---\n');
    writeFileSync(
      join(dir, "brave-fox.md"),
      '---\n"@vbapi-sdk/openapi": minor\n---\n\nAdded a field.\n',
    );
    writeFileSync(
      join(dir, "calm-owl.md"),
      '---\n"@vbapi-sdk/openapi": major\n"@vbapi-sdk/client": major\n---\n',
    );
    const changesets = readChangesets(dir);
    expect(changesets.map((c) => c.file)).toEqual(["brave-fox.md", "calm-owl.md"]);
    expect(majorChangesets(changesets, "@vbapi-sdk/openapi")).toEqual(["calm-owl.md"]);
    expect(majorChangesets(changesets, "@vbapi-sdk/events")).toEqual([]);
    expect(readChangesets(join(dir, "missing"))).toEqual([]);
  });
});
