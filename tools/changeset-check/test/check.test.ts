import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { bundleCli } from "@vbapi-sdk/tool-test-bin";
import { beforeEach, describe, expect, it } from "vitest";
import { readChangesets } from "../changesets.ts";
import { check } from "../check.ts";

// The CLI, bundled once for this file: each run spawns node, not tsx.
const cli = bundleCli(resolve(import.meta.dirname, "../changeset-check.ts"));

let repo: string;
const git = (...args: string[]) =>
  execFileSync(
    "git",
    [
      "-c",
      "user.name=Test",
      "-c",
      "user.email=test@example.com",
      "-c",
      "commit.gpgsign=false",
      ...args,
    ],
    { cwd: repo, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] },
  );
const write = (file: string, text: string) => {
  mkdirSync(dirname(join(repo, file)), { recursive: true });
  writeFileSync(join(repo, file), text);
};
const pkg = (name: string, extra: object = {}) =>
  JSON.stringify({ name, version: "1.0.0", ...extra }, null, 2);
const commit = (message: string) => {
  git("add", "-A");
  git("commit", "-q", "-m", message);
};
const changeset = (file: string, ...packages: string[]) =>
  write(
    `.changeset/${file}`,
    `---\n${packages.map((p) => `"${p}": minor`).join("\n")}\n---\n\nA change.\n`,
  );
const missing = (ref?: string) => check(repo, ref).missing;
const run = (...args: string[]) => {
  const r = spawnSync(process.execPath, [cli, "--cwd", repo, ...args], { encoding: "utf8" });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};

/** A monorepo like this one: the spec in openapi/, two published packages and a private one. */
beforeEach(() => {
  repo = mkdtempSync(join(tmpdir(), "changeset-check-"));
  git("init", "-q", "-b", "main");
  write("package.json", pkg("root", { private: true }));
  write(".changeset/config.json", "{}");
  write(".changeset/README.md", "# Changesets\n");
  write("openapi/openapi.yaml", "openapi: 3.1.0\n");
  write("packages/openapi/package.json", pkg("@vbapi-sdk/openapi"));
  write("packages/openapi/released/openapi.json", "{}");
  write("packages/client/package.json", pkg("@vbapi-sdk/client"));
  write("packages/client/src/index.ts", "export const a = 1;\n");
  write("packages/client/test/index.test.ts", "// test\n");
  write("packages/internal/package.json", pkg("@vbapi-sdk/internal", { private: true }));
  write("packages/internal/index.ts", "export {};\n");
  write("tools/thing/index.ts", "export {};\n");
});

describe("before the first release (no tag)", () => {
  it("fails: every published package needs a changeset", () => {
    commit("scaffold");
    const r = check(repo);
    expect(r.base.label).toBe("the first commit (no release tag yet)");
    expect(r.missing).toEqual(["@vbapi-sdk/client", "@vbapi-sdk/openapi"]);
    expect(r.touched.get("@vbapi-sdk/openapi")).toEqual([
      "openapi/openapi.yaml",
      "packages/openapi/package.json",
    ]);
  });

  it("passes with an initial-release changeset naming them", () => {
    changeset("initial-release.md", "@vbapi-sdk/openapi", "@vbapi-sdk/client");
    commit("scaffold");
    expect(missing()).toEqual([]);
    expect(readChangesets(join(repo, ".changeset"))).toEqual([
      {
        id: "initial-release",
        summary: "A change.",
        releases: [
          { name: "@vbapi-sdk/openapi", type: "minor" },
          { name: "@vbapi-sdk/client", type: "minor" },
        ],
      },
    ]);
  });
});

describe("after a release tag", () => {
  beforeEach(() => {
    commit("release");
    git("tag", "@vbapi-sdk/client@1.0.0");
  });

  it("passes when nothing changed", () => {
    const r = check(repo);
    expect(r.base.label).toBe("the last release tag @vbapi-sdk/client@1.0.0");
    expect(r.touched.size).toBe(0);
  });

  it("fails on a committed change to a package without a changeset", () => {
    write("packages/client/src/generated/types.ts", "export type A = 1;\n");
    commit("regenerate");
    expect(missing()).toEqual(["@vbapi-sdk/client"]);
    expect(check(repo).touched.get("@vbapi-sdk/client")).toEqual([
      "packages/client/src/generated/types.ts",
    ]);
  });

  it("fails on an uncommitted change to the spec", () => {
    write("openapi/openapi.yaml", "openapi: 3.1.0\ninfo: {}\n");
    expect(missing()).toEqual(["@vbapi-sdk/openapi"]);
  });

  it("passes when an uncommitted changeset covers the change", () => {
    write("packages/client/src/index.ts", "export const a = 2;\n");
    commit("change");
    changeset("brave-fox.md", "@vbapi-sdk/client");
    expect(missing()).toEqual([]);
  });

  it("fails when the changeset names another package", () => {
    write("packages/client/src/index.ts", "export const a = 2;\n");
    write("openapi/paths/new.yaml", "get: {}\n");
    changeset("brave-fox.md", "@vbapi-sdk/client");
    commit("change");
    expect(missing()).toEqual(["@vbapi-sdk/openapi"]);
  });

  it("counts deleted files", () => {
    rmSync(join(repo, "packages/client/src/index.ts"));
    expect(missing()).toEqual(["@vbapi-sdk/client"]);
  });

  it("ignores tests, private packages, tools, root files and what a release commit changes", () => {
    write("packages/client/test/more.test.ts", "// more\n");
    write("packages/internal/index.ts", "export const x = 1;\n");
    write("tools/thing/index.ts", "export const x = 1;\n");
    write("README.md", "# Repo\n");
    write("packages/client/package.json", pkg("@vbapi-sdk/client", { version: "1.1.0" }));
    write("packages/client/CHANGELOG.md", "# @vbapi-sdk/client\n\n## 1.1.0\n");
    write("packages/openapi/released/openapi.json", '{"openapi":"3.1.0"}');
    commit("chore");
    expect(check(repo).touched.size).toBe(0);
  });

  it("counts a package.json change beyond the version", () => {
    write(
      "packages/client/package.json",
      pkg("@vbapi-sdk/client", { dependencies: { ky: "1.0.0" } }),
    );
    expect(missing()).toEqual(["@vbapi-sdk/client"]);
  });

  it("takes an empty changeset as 'no release needed'", () => {
    write("packages/client/README.md", "Typo fixed.\n");
    write(".changeset/quiet-cat.md", "---\n---\n\nDocs only.\n");
    const r = check(repo);
    expect(r.missing).toEqual([]);
    expect(r.acknowledgedBy).toEqual([".changeset/quiet-cat.md"]);
  });
});

describe("--base", () => {
  it("compares with the merge-base of a branch", () => {
    commit("main");
    git("checkout", "-q", "-b", "feature");
    write("packages/client/src/index.ts", "export const a = 3;\n");
    commit("feature work");
    git("checkout", "-q", "main");
    write("openapi/openapi.yaml", "openapi: 3.1.1\n");
    commit("main moves on");
    git("checkout", "-q", "feature");
    expect(missing("main")).toEqual(["@vbapi-sdk/client"]);
    changeset("feature.md", "@vbapi-sdk/client");
    expect(missing("main")).toEqual([]);
  });
});

describe("CLI", () => {
  it("exits 1 listing the packages and files, 0 once a changeset covers them", () => {
    commit("release");
    git("tag", "v1.0.0");
    write("packages/client/src/index.ts", "export const a = 2;\n");
    const failed = run();
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain(
      "changed since the last release tag v1.0.0 without a changeset:",
    );
    expect(failed.stderr).toContain("  @vbapi-sdk/client\n    packages/client/src/index.ts\n");
    expect(failed.stderr).toContain("pnpm changeset");
    changeset("fix.md", "@vbapi-sdk/client");
    const passed = run();
    expect(passed.code).toBe(0);
    expect(passed.stdout).toContain(
      "@vbapi-sdk/client changed since the last release tag v1.0.0, covered by .changeset/fix.md",
    );
  });

  it("says when nothing changed, and exits 2 on a bad --base or a directory outside git", () => {
    commit("release");
    git("tag", "v1.0.0");
    expect(run().stdout).toContain(
      "no published package changed since the last release tag v1.0.0",
    );
    expect(run("--base", "nope").code).toBe(2);
    const outside = spawnSync(
      process.execPath,
      [cli, "--cwd", mkdtempSync(join(tmpdir(), "no-git-"))],
      {
        encoding: "utf8",
      },
    );
    expect(outside.status).toBe(2);
    expect(outside.stderr).toContain("is not a git work tree");
  });

  it("exits 2 naming a changeset that changesets cannot parse (it acknowledges nothing)", () => {
    commit("release");
    git("tag", "v1.0.0");
    write("packages/client/src/index.ts", "export const a = 2;\n");
    write(".changeset/no-frontmatter.md", "Fixed a bug, forgot the frontmatter.\n");
    const r = run();
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      "changeset-check: .changeset/no-frontmatter.md: could not parse changeset - missing or invalid frontmatter.",
    );
    write(".changeset/no-frontmatter.md", '---\n"@vbapi-sdk/client": huge\n---\n\nText.\n');
    expect(run().stderr).toContain('invalid version type "huge" for package "@vbapi-sdk/client"');
  });

  it("refuses to guess in a shallow clone without tags", () => {
    commit("one");
    write("packages/client/src/index.ts", "export const a = 2;\n");
    commit("two");
    const clone = mkdtempSync(join(tmpdir(), "changeset-check-shallow-"));
    execFileSync("git", ["clone", "-q", "--depth", "1", `file://${repo}`, clone]);
    const r = spawnSync(process.execPath, [cli, "--cwd", clone], { encoding: "utf8" });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("shallow clone without a release tag");
  });
});
