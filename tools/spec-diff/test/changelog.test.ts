// The changelog written from the diff report: breaking changes first, grouped by what happened
// to which kind of thing, as a changeset for @vbapi-sdk/openapi.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import parseChangeset from "@changesets/parse";
import { bundleCli } from "@vbapi-sdk/tool-test-bin";
import { describe, expect, it } from "vitest";
import { bumpFor, CHANGESET_FILE, classify, MARKER, renderChangeset } from "../changelog.ts";
import { diffSpecs } from "../diff.ts";

const PKG = "@vbapi-sdk/openapi";
type Props = Record<string, unknown>;
const op = (operationId: string, schema: string) => ({
  put: {
    operationId,
    requestBody: {
      required: true,
      content: {
        "application/json": {
          schema: { type: "array", items: { $ref: `#/components/schemas/${schema}` } },
        },
      },
    },
    responses: { "207": { description: "Multi-Status" } },
  },
});
const spec = (props: Props, required: string[] = [], paths: Record<string, unknown> = {}) => ({
  openapi: "3.1.0",
  info: { title: "t", version: "1" },
  paths: { "/tolerances-batch": op("updateBatchTolerance", "Tolerance"), ...paths },
  components: {
    schemas: {
      Tolerance: { type: "object", additionalProperties: false, required, properties: props },
      Event: { type: "object", properties: { event_ID: { type: "integer" } } },
    },
  },
});
const base: Props = {
  tolerance_Key: { type: "integer" },
  group_ID: { type: ["string", "null"], maxLength: 20, description: "group" },
  tolerance1: { type: ["number", "null"] },
};

describe("renderChangeset", () => {
  it("lists breaking changes first, then the others, by action and kind; docs are counted", () => {
    const before = spec(base, ["tolerance_Key"], {
      "/events-batch": op("updateBatchEvent", "Event"),
    });
    const after = spec(
      {
        tolerance_Key: { type: "integer" },
        group_ID: { type: ["string", "null"], maxLength: 10, description: "the group" },
        tolerance1: { type: "number" },
        payment_Method: { type: ["string", "null"], maxLength: 1 },
      },
      ["tolerance_Key"],
      { "/claim-prompt-pays-batch": op("updateBatchClaimPromptPay", "Event") },
    );
    const text = renderChangeset(diffSpecs(before, after), PKG);
    expect(text).toBe(
      [
        "---",
        `"${PKG}": major`,
        "---",
        "",
        "OpenAPI description: 3 breaking changes, 2 non-breaking changes, 1 documentation change.",
        "",
        MARKER,
        "",
        "**Breaking changes** (a client generated from the previous version may no longer compile or work):",
        "",
        "- Changed:",
        "  - Constraints:",
        "    - `PUT /tolerances-batch › request › group_ID`: maxLength tightened from 20 to 10",
        "    - `PUT /tolerances-batch › request › tolerance1`: type narrowed from number|null to number",
        "- Removed:",
        "  - Operations:",
        "    - `PUT /events-batch`: operation removed (the path is gone)",
        "",
        "**Other changes:**",
        "",
        "- Added:",
        "  - Operations:",
        "    - `PUT /claim-prompt-pays-batch`: operation updateBatchClaimPromptPay added",
        "  - Fields:",
        "    - `PUT /tolerances-batch › request › payment_Method`: optional field added",
        "",
        "**Documentation:** descriptions, examples or code samples changed in 1 place.",
        "",
      ].join("\n"),
    );
  });

  it("is a minor for additions, a patch for docs only, nothing for no difference", () => {
    const minor = renderChangeset(
      diffSpecs(spec(base), spec({ ...base, note: { type: "string", maxLength: 5 } })),
      PKG,
    );
    expect(minor).toContain(`"${PKG}": minor`);
    expect(minor).toContain("    - `PUT /tolerances-batch › request › note`: optional field added");
    const docs = renderChangeset(
      diffSpecs(
        spec(base),
        spec({ ...base, tolerance1: { type: ["number", "null"], description: "x" } }),
      ),
      PKG,
    );
    expect(docs).toContain(`"${PKG}": patch`);
    expect(docs).not.toContain("**Other changes:**");
    expect(renderChangeset(diffSpecs(spec(base), spec(base)), PKG)).toBeNull();
    expect(bumpFor([])).toBeNull();
  });

  it("counts code samples as documentation, without dumping them", () => {
    const after = spec(base);
    (after.paths["/tolerances-batch"].put as Props)["x-codeSamples"] = [
      { lang: "Shell", label: "curl", source: "curl -X PUT https://example/tolerances-batch" },
    ];
    const changes = diffSpecs(spec(base), after);
    expect(changes.length).toBeGreaterThan(0);
    const text = renderChangeset(changes, PKG) ?? "";
    expect(text).toContain(`"${PKG}": patch`);
    expect(text).toContain("code samples changed in 1 place");
    expect(text).not.toContain("curl -X PUT");
  });

  it("words an unclassified key by what happened to it, not by its value", () => {
    const [entry] = classify([
      {
        severity: "non-breaking",
        location: "PUT /x",
        message: 'x-vbapi-batch-limit changed from none to {"max":100}',
        rule: "other",
      },
    ]);
    expect(entry).toMatchObject({
      action: "added",
      kind: "other",
      text: "`PUT /x`: x-vbapi-batch-limit added",
    });
  });

  it("is a changeset the gate reads as a major when a change breaks", () => {
    const text = renderChangeset(diffSpecs(spec(base, []), spec(base, ["group_ID"])), PKG) ?? "";
    expect(parseChangeset(text).releases).toEqual([{ name: PKG, type: "major" }]);
    expect(text).toContain("    - `PUT /tolerances-batch › request › group_ID`: now required");
  });
});

describe("spec-diff --changeset / --changeset-check", () => {
  // The CLI, bundled once: each run spawns node, not tsx.
  const cli = bundleCli(resolve(import.meta.dirname, "../spec-diff.ts"));
  const dir = mkdtempSync(join(tmpdir(), "spec-diff-changelog-"));
  mkdirSync(join(dir, ".changeset"));
  const write = (name: string, value: unknown) =>
    writeFileSync(join(dir, name), JSON.stringify(value));
  const run = (...args: string[]) => {
    const files = ["--base", "released.json", "--head", "dist.json", "--changesets", ".changeset"];
    const r = spawnSync(process.execPath, [cli, ...files, ...args], {
      cwd: dir,
      encoding: "utf8",
    });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };
  const file = join(dir, ".changeset", CHANGESET_FILE);

  it("writes the changeset, checks it, and notices when it goes stale or is no longer needed", () => {
    write("released.json", spec(base));
    write("dist.json", spec(base, ["group_ID"]));
    const missing = run("--changeset-check");
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(
      `.changeset/${CHANGESET_FILE} is missing: run \`pnpm diff:spec --changeset\``,
    );

    // the breaking change is released as a major by the written changeset: the gate passes
    const written = run("--changeset");
    expect(written.code).toBe(0);
    expect(written.stdout).toContain(
      `**Gate passed:** 1 breaking change(s), released as a major by \`.changeset/${CHANGESET_FILE}\``,
    );
    expect(readFileSync(file, "utf8")).toContain(
      "`PUT /tolerances-batch › request › group_ID`: now required",
    );
    expect(run("--changeset-check").code).toBe(0);

    write("dist.json", spec(base, ["group_ID", "tolerance1"]));
    const stale = run("--changeset-check");
    expect(stale.code).toBe(1);
    expect(stale.stderr).toContain("is out of date: run `pnpm diff:spec --changeset`");

    write("dist.json", spec(base));
    const gone = run("--changeset-check");
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain("describes changes the spec no longer has");
    expect(run("--changeset").code).toBe(0);
    expect(existsSync(file)).toBe(false);
    expect(run("--changeset-check").code).toBe(0);
  }, 60_000); // seven runs of the CLI
});
