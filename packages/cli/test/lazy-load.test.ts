// What each command loads (the built bin): a run pays at start-up only for what it uses. --help and
// validate load no network stack, no JSON stream parser for a CSV, no progress bar library; a
// direct upsert loads undici's agent, connector and fetch, not all of undici. Also: counts are
// grouped as toLocaleString("en-US") groups them, without loading ICU's number formatting.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { fmt } from "../src/count.ts";
import { env } from "./e2e-setup.ts";
import { tempDir, vbapi } from "./helpers.ts";

/**
 * Runs the bin with a probe that writes, at exit, every CommonJS file it loaded and Node's own
 * modules it loaded (`process.moduleLoadList`).
 */
async function loaded(args: string[], extraEnv: Record<string, string> = {}) {
  const dir = tempDir();
  const probe = join(dir, "probe.cjs");
  const out = join(dir, "loaded.json");
  writeFileSync(
    probe,
    `process.on("exit", () => require("node:fs").writeFileSync(${JSON.stringify(out)}, JSON.stringify({ files: Object.keys(require.cache), builtins: process.moduleLoadList })));\n`,
  );
  const csv = join(dir, "t.csv");
  writeFileSync(csv, "tolerance_Key,tolerance1\n1,1.5\n2,2.5\n");
  const r = await vbapi(
    args.map((a) => (a === "CSV" ? csv : a)),
    { env: { ...extraEnv, NODE_OPTIONS: `--require ${probe}` }, cwd: dir },
  );
  const written = (await import("node:fs")).readFileSync(out, "utf8");
  return { r, ...(JSON.parse(written) as { files: string[]; builtins: string[] }) };
}
const has = (files: string[], part: string) => files.some((f) => f.includes(part));

describe("what a command loads", () => {
  it("--help and validate of a CSV: no undici, no stream-json, no progress bar library, no OpenTelemetry", async () => {
    for (const args of [["--help"], ["validate", "tolerances", "CSV"]]) {
      const { r, files } = await loaded(args);
      expect(r.code).toBe(0);
      expect(files.length).toBeGreaterThan(0);
      for (const part of [
        "/undici/",
        "/stream-json/",
        "/stream-chain/",
        "/cli-progress/",
        "/@opentelemetry/",
      ])
        expect(has(files, part), `${args[0]} loaded ${part}`).toBe(false);
    }
  });

  it("a direct upsert of a CSV loads undici's fetch but not its index, nor stream-json, nor Node's fetch, nor OpenTelemetry", async () => {
    const { r, files, builtins } = await loaded(
      ["upsert", "tolerances", "CSV", "--database", "LAZY1"],
      env,
    );
    expect(r.code, r.stderr).toBe(0);
    expect(has(files, "/undici/lib/web/fetch/index.js")).toBe(true);
    expect(files.some((f) => /\/undici\/index\.js$/.test(f))).toBe(false);
    expect(has(files, "/stream-json/")).toBe(false);
    // Telemetry off (no OTLP endpoint): no OpenTelemetry package, the API included (30 ms of
    // CPU): the client carries what it uses of the API, and the CLI loads it with the SDK.
    expect(has(files, "/@opentelemetry/")).toBe(false);
    // Node's built-in fetch (its own copy of undici, ~15 ms to load): the CLI sends through the
    // undici above, and the SDK makes its raw openapi-fetch client (which reads the global
    // Request) only when asked for it.
    expect(builtins).toContain("NativeModule internal/fs/utils");
    expect(builtins.filter((m) => m.includes("internal/deps/undici"))).toEqual([]);
  });
});

describe("fmt (counts with thousands separators)", () => {
  it("writes what toLocaleString('en-US') writes, at the edges and across magnitudes", () => {
    const edges = [
      0,
      -0,
      1,
      -1,
      999,
      1000,
      -1000,
      999_999,
      1_000_000,
      1234567.891,
      -0.5,
      2 ** 53 - 1,
      -(2 ** 53 - 1),
      2 ** 53,
      1e21,
      1e-7,
      Number.NaN,
      Number.POSITIVE_INFINITY,
      Number.NEGATIVE_INFINITY,
    ];
    for (const n of edges) expect(fmt(n), String(n)).toBe(n.toLocaleString("en-US"));
    for (let digits = 1; digits <= 16; digits++) {
      for (let i = 0; i < 200; i++) {
        const n = Math.floor(Math.random() * 10 ** digits) * (i % 2 ? -1 : 1);
        expect(fmt(n)).toBe(n.toLocaleString("en-US"));
      }
    }
  });
});
