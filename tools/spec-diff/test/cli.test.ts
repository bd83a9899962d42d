import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { bundleCli } from "@vbapi-sdk/tool-test-bin";
import { beforeEach, describe, expect, it } from "vitest";

// The CLI, bundled once for this file: each run spawns node, not tsx.
const cli = bundleCli(resolve(import.meta.dirname, "../spec-diff.ts"));
const spec = (amountType: unknown, extra = {}) => ({
  openapi: "3.1.0",
  info: { title: "t", version: "1" },
  paths: {
    "/tolerances-batch": {
      put: {
        operationId: "updateBatchTolerance",
        requestBody: {
          required: true,
          content: {
            "application/json": {
              schema: { type: "array", items: { $ref: "#/components/schemas/Tolerance" } },
            },
          },
        },
        responses: { "207": { description: "Multi-Status" } },
      },
    },
  },
  components: {
    schemas: {
      Tolerance: {
        type: "object",
        properties: { tolerance1: { type: amountType, format: "double" }, ...extra },
      },
    },
  },
});

let dir: string;
const run = (...args: string[]) => {
  const r = spawnSync(process.execPath, [cli, ...args], { cwd: dir, encoding: "utf8" });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};
const write = (name: string, value: unknown) => {
  mkdirSync(join(dir, name, ".."), { recursive: true });
  writeFileSync(join(dir, name), typeof value === "string" ? value : JSON.stringify(value));
};
const files = ["--base", "released.json", "--head", "dist.json", "--changesets", ".changeset"];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "spec-diff-cli-"));
  mkdirSync(join(dir, ".changeset"));
});

describe("spec-diff CLI", () => {
  it("says so and exits 0 when nothing changed", () => {
    write("released.json", spec(["number", "null"]));
    write("dist.json", spec(["number", "null"]));
    const r = run(...files);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("No differences.");
  });

  it("fails on a breaking change without a major changeset, and writes --out", () => {
    write("released.json", spec(["number", "null"]));
    write("dist.json", spec("number", { note: { type: "string" } }));
    write(".changeset/minor-fix.md", '---\n"@vbapi-sdk/openapi": minor\n---\n\nOops.\n');
    const r = run(...files, "--out", "report/spec-diff.md");
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("### Breaking (1)");
    expect(r.stdout).toContain(
      "- `PUT /tolerances-batch › request › tolerance1`: type narrowed from number|null to number",
    );
    expect(r.stdout).toContain("### Non-breaking (1)");
    expect(r.stdout).toContain("**Gate failed:**");
    expect(r.stderr).toContain("without a major changeset for @vbapi-sdk/openapi");
    expect(readFileSync(join(dir, "report/spec-diff.md"), "utf8")).toBe(r.stdout);
    expect(run(...files, "--report-only").code).toBe(0);
  });

  it("passes a breaking change released as a major", () => {
    write("released.json", spec(["number", "null"]));
    write("dist.json", spec("number"));
    write(
      ".changeset/big-change.md",
      '---\n"@vbapi-sdk/openapi": major\n"@vbapi-sdk/client": major\n---\n\nx\n',
    );
    const r = run(...files);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(
      "**Gate passed:** 1 breaking change(s), released as a major by `.changeset/big-change.md`",
    );
  });

  it("passes non-breaking changes without any changeset", () => {
    write("released.json", spec("number"));
    write("dist.json", spec(["number", "null"]));
    const r = run(...files);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("type widened from number to number|null");
    expect(r.stdout).not.toContain("Gate");
  });

  it("--update copies the bundle over the released spec", () => {
    write("dist.json", spec("number"));
    const r = run("--update", "--base", "released/openapi.json", "--head", "dist.json");
    expect(r.code).toBe(0);
    expect(readFileSync(join(dir, "released/openapi.json"), "utf8")).toBe(
      readFileSync(join(dir, "dist.json"), "utf8"),
    );
    expect(run(...files.slice(0, 2), "released/openapi.json", ...files.slice(2)).code).toBe(2);
  });

  it("exits 2 on missing input or a bad option", () => {
    write("released.json", spec("number"));
    const missing = run(...files);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("run `pnpm build` first");
    expect(run("--bogus").code).toBe(2);
    expect(existsSync(join(dir, "dist.json"))).toBe(false);
  });
});
