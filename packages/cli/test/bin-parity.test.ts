// The suite runs most commands through the built `main` in its worker (helpers.ts): the bin
// must do the same. Each case runs both ways on the same input; codes, output (times, sizes
// and paths masked) and the run folder's result files must agree.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { csvRun, env, upsertArgs } from "./e2e-setup.ts";
import { bin, type Result, runsInWorker, tempDir, vbapi } from "./helpers.ts";

/**
 * Output with what differs between two runs of the same thing masked: paths, times, rates,
 * and the progress lines and events (how many depends on how long the run took).
 */
const masked = (text: string, ...paths: string[]) => {
  let out = text
    .split("\n")
    .filter((line) => !/ rows read, |"event":"progress"/.test(line))
    .join("\n");
  for (const path of paths) out = out.split(path).join("<dir>");
  return (
    out
      .replace(/\d{4}-\d\d-\d\dT[\d:.]+Z/g, "<time>")
      .replace(/\bDB\d+\b/g, "<db>")
      // The reference server's activity id: its process's id, then a count of its requests.
      .replace(/\b[A-Z0-9]{13}:\d{8}\b/g, "<activity>")
      .replace(/[\d,]+(\.\d+)?( ?)(ms|s|rows\/s|MB|KB|B)\b/g, "<n>$2$3")
      .replace(
        /"(time|bytes|elapsedMs|sessionMs|totalMs|rowsPerSecond|etaSeconds|peakRssBytes)": ?[\d.]+/g,
        '"$1":<n>',
      )
  );
};

async function both(make: () => { args: string[]; dirs: string[] }, input?: string) {
  const results: Result[] = [];
  const dirs: string[][] = [];
  for (const how of [bin, vbapi]) {
    const { args, dirs: d } = make();
    dirs.push(d);
    results.push(await how(args, { env, ...(input !== undefined && { input }) }));
  }
  const [b, w] = results as [Result, Result];
  const [bd, wd] = dirs as [string[], string[]];
  expect(w.code).toBe(b.code);
  expect(masked(w.stdout, ...wd)).toBe(masked(b.stdout, ...bd));
  expect(masked(w.stderr, ...wd)).toBe(masked(b.stderr, ...bd));
  return { bin: { ...b, dirs: bd }, worker: { ...w, dirs: wd } };
}

describe("the bin and main in the worker agree", () => {
  it("the runs below do run in the worker", () => {
    expect(runsInWorker({ env })).toBe(process.env.VBAPI_TEST_BIN !== "1");
  });

  it("an upsert with an invalid row and a server-side failure, --json and text", async () => {
    const content = "tolerance_Key,tolerance1\n1,1\n2,not-a-number\n3,3\n";
    for (const json of [true, false]) {
      const r = await both(() => {
        const run = csvRun(content);
        return {
          args: [...upsertArgs(run.file, run.database, run.out), ...(json ? ["--json"] : [])],
          dirs: [run.out, run.dir],
        };
      });
      expect(r.bin.code).toBe(1);
      // The run folder's files agree too: every row's outcome, and the summary.
      for (const name of ["failed.csv", "succeeded.csv", "summary.json"]) {
        const read = (dirs: string[]) =>
          masked(readFileSync(join(dirs[0] as string, name), "utf8"), ...dirs);
        expect(read(r.worker.dirs), name).toBe(read(r.bin.dirs));
      }
    }
  });

  it("validate, template, entities, a usage error, a resume and a report", async () => {
    const dir = tempDir();
    const bad = join(dir, "bad.csv");
    writeFileSync(bad, "tolerance_Key,tolerance1\nx,y\n,\n");
    await both(() => ({ args: ["validate", "tolerances", bad], dirs: [dir] }));
    await both(() => ({ args: ["validate", "tolerances", bad, "--json"], dirs: [dir] }));
    await both(() => ({ args: ["template", "events", "--format", "ndjson"], dirs: [] }));
    await both(() => ({ args: ["entities", "--json"], dirs: [] }));
    await both(() => ({ args: ["upsert", "nope", bad], dirs: [dir] }));
    await both(() => ({ args: ["upsert", "tolerances", bad, "--chunk-size", "0"], dirs: [dir] }));
    const done = csvRun("tolerance_Key,tolerance1\n1,1\n");
    expect((await vbapi(upsertArgs(done.file, done.database, done.out), { env })).code).toBe(0);
    await both(() => ({ args: ["resume", done.out], dirs: [done.out, done.dir] }));
    await both(() => ({ args: ["report", done.out], dirs: [done.out, done.dir] }));
  });
});
