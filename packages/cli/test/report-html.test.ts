// The run report as a page (report.html): written by upsert and resume and by `vbapi report
// --html`, from a real run of the built bin against the reference server (refused rows, invalid
// rows, 429s). The page escapes every value from the run folder, loads nothing, shows no record
// value and no credential, and still reports run folders without request times or a summary.
import { createHash } from "node:crypto";
import {
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { reasonOf, reportWarning } from "../src/commands/report.ts";
import { stepFor, timelineChart } from "../src/report-html/chart.ts";
import { damageNote, displayUrl, type TimelineSession } from "../src/report-html/data.ts";
import { escapeHtml } from "../src/report-html/html.ts";
import { readJournalHistory, replayJournal, type SettledRequest } from "../src/run-dir/journal.ts";
import { countJsonArray } from "../src/session/request-times.ts";
import {
  events,
  RAW_CONTROL,
  readJson,
  start,
  tempDir,
  vbapi,
  withoutNewLines,
} from "./helpers.ts";
import {
  API_KEY,
  CELL_VALUE,
  COLUMN,
  DATABASE,
  FILE_NAME,
  INVALID_VALUE,
  MESSAGE_ATTR,
  MESSAGE_SCRIPT,
  MESSAGE_STYLE,
  type ReportRun,
  reportRun,
  TOKEN,
} from "./report-run.ts";

/** The tags the page is made of: anything else would be markup from the run folder. */
const PAGE_TAGS = new Set(
  "html head meta title link style body header main footer section div p span h1 h2 br code pre table thead tbody tr th td dl dt dd figure figcaption svg g rect line text".split(
    " ",
  ),
);

let run: ReportRun;
let page: string;
let summary: Record<string, unknown> & {
  totals: Record<string, number>;
  timings: Record<string, unknown>;
};
beforeAll(async () => {
  run = await reportRun();
  page = readFileSync(join(run.out, "report.html"), "utf8");
  summary = readJson(join(run.out, "summary.json"));
}, 30_000);
afterAll(() => run?.server.close());

const journalLines = (dir: string) =>
  readFileSync(join(dir, "journal.ndjson"), "utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);

/** A copy of the run folder to change (the run itself stays as it was). */
function copyOfRun(): string {
  const copy = join(tempDir(), "copy");
  cpSync(run.out, copy, { recursive: true });
  rmSync(join(copy, "report.html"));
  return copy;
}

describe("report.html at the end of an upsert", () => {
  it("is written into the run folder, and its path printed (text mode: one line)", () => {
    expect(run.result.code).toBe(1);
    const path = join(run.out, "report.html");
    expect(run.result.stderr.split("\n").filter((l) => l === `report: ${path}`)).toHaveLength(1);
    expect(existsSync(path)).toBe(true);
  });

  it("the journal records every request as it settled: one line each, its status and records", () => {
    const requests = journalLines(run.out).filter((e) => e.t === "q");
    expect(requests).toHaveLength(summary.requests as number);
    expect(requests.filter((r) => r.st === 429)).toHaveLength(summary.rateLimited as number);
    expect(summary.rateLimited).toBeGreaterThan(0);
    for (const r of requests) {
      expect(r.ts).toBeGreaterThan(Date.parse(summary.timings.createdAt as string) - 1);
      expect(r.ms).toBeGreaterThanOrEqual(0);
      expect(r.n).toBeGreaterThan(0);
    }
    // 58 valid rows (2 invalid ones are never sent) in the answered requests, plus the re-sent.
    const applied = requests.filter((r) => r.st === 207).reduce((n, r) => n + (r.n as number), 0);
    expect(applied).toBe(58);
  });

  it("shows the status, the exit code, the totals and the request counts of summary.json", () => {
    expect(page).toContain('data-status="complete"');
    expect(page).toContain('data-exit-code="1"');
    for (const [name, value] of [
      ["rows", 60],
      ["succeeded", 54],
      ["failed", 3 + 1],
      ["invalid", 2],
    ] as const) {
      expect(page).toContain(`data-total="${name}">${value}<`);
    }
    expect(summary.totals).toMatchObject({ rows: 60, created: 54, failed: 4, invalid: 2 });
    expect(page).toContain(`data-total="requests">${summary.requests} (`);
    expect(page).toContain(`data-total="retries">${summary.retries}<`);
    expect(page).toContain(`data-total="rateLimited">${summary.rateLimited}<`);
    const input = summary.input as { sha256: string; size: number };
    expect(page).toContain(input.sha256);
    expect(page).toContain(`${input.size.toLocaleString("en-US")} bytes`);
    expect(page).toContain(escapeHtml(run.server.url));
  });

  it("draws requests and 429s over time from the journal", () => {
    expect(page).toContain('role="img"');
    expect(page.match(/<rect class="limited"/g)?.length).toBeGreaterThan(0);
    expect(page.match(/<rect class="ok"/g)?.length).toBeGreaterThan(0);
    expect(page).toContain(`${summary.rateLimited} answered 429, the first at 0:0`);
    expect(page).toContain("rate limit 40/s");
  });

  it("groups the failures by message, with counts and their first rows", () => {
    const row = (status: string, message: string, count: number, rows: string) =>
      `<tr><td class="num">${count}</td><td>${status}</td><td class="msg">${escapeHtml(message)}</td><td>${rows}</td></tr>`;
    expect(page).toContain(row("HTTP 409", MESSAGE_SCRIPT, 2, "7, 14"));
    expect(page).toContain(row("HTTP 422", MESSAGE_ATTR, 1, "21"));
    expect(page).toContain(row("HTTP 423", MESSAGE_STYLE, 1, "33"));
    expect(page).toContain(
      row("-", `invalid, not sent: column "${COLUMN}": is not a number`, 2, "30, 45"),
    );
    expect(page).toContain(`vbapi upsert tolerances ${escapeHtml(join(run.out, "failed.csv"))}`);
  });

  it("escapes every value from the run folder: server messages, file name, column name, database", () => {
    for (const hostile of [MESSAGE_SCRIPT, MESSAGE_ATTR, FILE_NAME, COLUMN, DATABASE]) {
      expect(page).not.toContain(hostile);
      expect(page).toContain(escapeHtml(hostile));
    }
    // The style breaker, and its bidi override and escape sequence shown, not acted on.
    expect(page).not.toContain("</style><style>body");
    expect(page).toContain("\\u202e\\x1b[2J");
    expect(withoutNewLines(page)).not.toMatch(RAW_CONTROL);
    // Every tag is one of the page's own: none came from the run folder.
    const tags = [...page.matchAll(/<\/?([a-zA-Z][\w-]*)/g)].map((m) => m[1]?.toLowerCase());
    expect(tags.filter((t) => !PAGE_TAGS.has(t as string))).toEqual([]);
    expect(page.match(/<style>/g)).toHaveLength(1);
    // No event handler in any tag (the hostile ones are text: their < is &lt;).
    const inTags = [...page.matchAll(/<[a-zA-Z][^>]*>/g)].map((m) => m[0]);
    expect(inTags.filter((t) => /\son\w+\s*=/i.test(t))).toEqual([]);
  });

  it("loads nothing: a Content-Security-Policy that forbids any network, the style by its hash", () => {
    const csp = /<meta http-equiv="Content-Security-Policy" content="([^"]+)">/.exec(page)?.[1];
    const style = /<style>([\s\S]*?)<\/style>/.exec(page)?.[1] as string;
    const hash = createHash("sha256").update(style).digest("base64");
    expect(csp?.replace(/&#39;/g, "'")).toBe(
      `default-src 'none'; style-src 'sha256-${hash}'; img-src data:; base-uri 'none'; form-action 'none'`,
    );
    // No reference to anything outside the page but the empty data: icon.
    const refs = [...page.matchAll(/\s(?:src|href|action|srcset|poster|data)="([^"]*)"/g)];
    expect(refs.map((m) => m[1])).toEqual(["data:,"]);
    expect(page).not.toMatch(/url\(|@import/);
  });

  it("holds no credential and no record value (only messages and row numbers)", () => {
    for (const secret of [API_KEY, TOKEN]) expect(page).not.toContain(secret);
    // The values are in failed.csv (the rows to fix), not in the page.
    expect(readFileSync(join(run.out, "failed.csv"), "utf8")).toContain(INVALID_VALUE);
    expect(page).not.toContain(CELL_VALUE);
    expect(page).not.toContain(INVALID_VALUE);
  });
});

describe("vbapi report <run-dir>", () => {
  it("--html [file] writes the same page anywhere and prints its path; without --html, text", async () => {
    const file = join(tempDir(), "again.html");
    const r = await vbapi(["report", run.out, "--html", file]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${file}\n`);
    const again = readFileSync(file, "utf8");
    // Only the time it was written differs.
    const stamp = (s: string) => s.replace(/at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC/, "at T");
    expect(stamp(again)).toBe(stamp(page));
    const text = await vbapi(["report", run.out]);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain("tolerances: complete, exit code 1\n");
    expect(text.stdout).toContain(
      "60 rows: 54 succeeded (54 created, 0 updated), 4 failed, 2 invalid",
    );
    expect(text.stdout).toContain(`  2 × HTTP 409: ${MESSAGE_SCRIPT} (rows 7, 14)`);
    // The terminal gets the escape sequence as text.
    expect(text.stdout).toContain("\\u202e\\x1b[2J (row 33)");
    expect(text.stdout).not.toContain(CELL_VALUE);
  });

  it("a folder that is not a run folder: exit 2, saying so", async () => {
    const r = await vbapi(["report", tempDir(), "--html"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/is not a vbapi run folder \(no run\.json\)/);
  });

  it("a journal from before request times: the report, without the chart, saying why", async () => {
    const copy = copyOfRun();
    const old = journalLines(copy).filter((e) => e.t !== "q");
    writeFileSync(join(copy, "journal.ndjson"), old.map((e) => `${JSON.stringify(e)}\n`).join(""));
    const r = await vbapi(["report", copy, "--html"]);
    expect(r.code).toBe(0);
    const html = readFileSync(join(copy, "report.html"), "utf8");
    expect(html).not.toContain('role="img"');
    expect(html).toContain(
      "No chart: This run&#39;s journal does not record when each request settled",
    );
    expect(html).toContain('data-total="rows">60<');
    // The journal stays readable for resume, with and without request lines.
    expect(replayJournal(join(copy, "journal.ndjson")).counts).toEqual(
      replayJournal(join(run.out, "journal.ndjson")).counts,
    );
  });

  it("a run that never wrote summary.json (kill -9): unfinished, no exit code, the resume command", async () => {
    const copy = copyOfRun();
    rmSync(join(copy, "summary.json"));
    const r = await vbapi(["report", copy, "--html"]);
    expect(r.code).toBe(0);
    const html = readFileSync(join(copy, "report.html"), "utf8");
    expect(html).toContain('data-status="unfinished"');
    expect(html).toContain('data-exit-code=""');
    expect(html).toContain("summary.json is missing");
    expect(html).toContain(`vbapi resume ${copy}`);
    // The totals the journal committed.
    expect(html).toContain('data-total="rows">60<');
    expect(html).toContain('data-total="failed">4<');
  });
});

describe("report.html and the end of a run", () => {
  it("--json: the page's path in the done event", async () => {
    const dir = tempDir();
    writeFileSync(join(dir, "t.csv"), "tolerance_Key,tolerance1\n1,1\n2,2\n");
    const out = join(dir, "run");
    const r = await vbapi(["upsert", "tolerances", join(dir, "t.csv"), "--out", out, "--json"], {
      env: { ...run.env, VBAPI_DATABASE: "JSONDB" },
    });
    expect(r.code).toBe(0);
    const done = events(r.stdout).at(-1);
    expect(done).toMatchObject({ event: "done", report: join(out, "report.html") });
    expect(readFileSync(join(out, "report.html"), "utf8")).toContain('data-status="complete"');
  });

  it("a report that cannot be written: one warning, the same exit code, the run intact", async () => {
    const dir = tempDir();
    writeFileSync(join(dir, "t.csv"), "tolerance_Key,tolerance1\n1,1\n2,x\n");
    const out = join(dir, "run");
    mkdirSync(join(out, "report.html"), { recursive: true }); // a folder where the page goes
    const r = await vbapi(["upsert", "tolerances", join(dir, "t.csv"), "--out", out], {
      env: { ...run.env, VBAPI_DATABASE: "WARNDB" },
    });
    expect(r.code).toBe(1);
    const warnings = r.stderr.split("\n").filter((l) => l.includes("warning"));
    expect(warnings).toEqual([
      `warning: the HTML report was not written (EISDIR); the run itself is unaffected: vbapi report ${out} --html writes it again`,
    ]);
    expect(r.stderr).not.toContain("report: ");
    expect(readJson(join(out, "summary.json"))).toMatchObject({ status: "complete", exitCode: 1 });
    expect(readdirSync(out).filter((name) => name.endsWith(".tmp"))).toEqual([]);
  });

  it("an interrupted run's page says how to resume; resume writes it again with both sessions", async () => {
    const dir = tempDir();
    const rows = Array.from({ length: 200 }, (_, i) => `${i + 1},${i}`).join("\n");
    writeFileSync(join(dir, "t.csv"), `tolerance_Key,tolerance1\n${rows}\n`);
    const out = join(dir, "run");
    const env = { ...run.env, VBAPI_DATABASE: "RESUMEDB" };
    run.server.setRateLimit(false);
    const slow = run.server.faults.delay(150, { target: { database: "RESUMEDB" } });
    const args = ["upsert", "tolerances", join(dir, "t.csv"), "--out", out, "--chunk-size", "10"];
    const first = start([...args, "--concurrency", "2", "--json"], { env });
    await new Promise<void>((resolve) => {
      first.child.stdout?.on("data", () => {
        if (run.server.store.count("RESUMEDB", "Tolerance") > 0) resolve();
      });
    });
    first.child.kill("SIGINT");
    const stopped = await first.done;
    slow.cancel();
    expect(stopped.code).toBe(130);
    const interrupted = readFileSync(join(out, "report.html"), "utf8");
    expect(interrupted).toContain('data-status="interrupted"');
    expect(interrupted).toContain('data-exit-code="130"');
    expect(interrupted).toContain(`<pre><code>vbapi resume ${out}</code></pre>`);
    const resumed = await vbapi(["resume", out], { env });
    expect(resumed.code).toBe(0);
    expect(resumed.stderr).toContain(`report: ${join(out, "report.html")}\n`);
    const done = readFileSync(join(out, "report.html"), "utf8");
    expect(done).toContain('data-status="complete"');
    expect(done).toContain('data-exit-code="0"');
    expect(done).toContain(">session 2</text>"); // the chart's second session
    expect(done).toContain("<td>2</td>"); // the sessions table
    expect(done).toContain("Nothing to do: no row is left to load.");
  });
});

describe("a damaged run folder", () => {
  /** `vbapi` with a small heap, killed after 30 s: a report must neither grow without bound nor hang. */
  async function bounded(args: string[], env: Record<string, string> = {}) {
    const heap = `${process.env.NODE_OPTIONS ?? ""} --max-old-space-size=128`.trim();
    const { child, done } = start(args, { env: { ...env, NODE_OPTIONS: heap } });
    // A report that loops over an impossible time range never ends: killed (signal SIGKILL).
    const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
    const began = performance.now();
    const result = await done;
    clearTimeout(timer);
    return { ...result, ms: performance.now() - began };
  }

  /** A copy of the run with `lines` after the journal's first line (session 1 starts), and `tail` after its last. */
  function damaged(lines: string[], tail = ""): string {
    const copy = copyOfRun();
    const path = join(copy, "journal.ndjson");
    const [first, ...rest] = readFileSync(path, "utf8").split("\n");
    writeFileSync(path, [first, ...lines, ...rest].join("\n") + tail);
    return copy;
  }

  const warningsOf = (stderr: string) => stderr.split("\n").filter((l) => l.includes("warning"));
  const firstRequest = () => journalLines(run.out).find((e) => e.t === "q") as { ts: number };

  it("impossible journal lines (a time at the end of time, in 5138, before 1970; null; impossible numbers): the page, without them, and one warning", async () => {
    const ts = firstRequest().ts;
    const cases: [string, string[], number][] = [
      ["the end of time", ['{"t":"q","ts":8.64e15,"ms":1,"st":207}'], 1],
      ["the year 5138", ['{"t":"q","ts":1e14,"ms":1,"st":207}'], 1],
      ["before 1970", ['{"t":"q","ts":-1e15,"ms":1,"st":207}'], 1],
      ["null, an array, a number, a string", ["null", "[1,2]", "42", '"q"'], 4],
      [
        "impossible numbers",
        [
          `{"t":"q","ts":${ts},"ms":-5,"st":207,"n":10}`,
          `{"t":"q","ts":${ts},"ms":5,"st":1e300}`,
          `{"t":"q","ts":${ts},"ms":5,"st":207,"n":-1}`,
          `{"t":"q","ts":"${ts}","ms":5,"st":207}`,
        ],
        4,
      ],
    ];
    // The undamaged folder's report, side by side with the damaged ones: a damaged journal
    // must not take much longer (a loop over an impossible time range would).
    const [control, ...results] = await Promise.all([
      bounded(["report", damaged([]), "--html"]),
      ...cases.map(async ([name, lines, skipped]) => {
        const copy = damaged(lines);
        return { name, skipped, copy, r: await bounded(["report", copy, "--html"]) };
      }),
    ]);
    expect(control.code).toBe(0);
    for (const { name, skipped, copy, r } of results as {
      name: string;
      skipped: number;
      copy: string;
      r: Awaited<ReturnType<typeof bounded>>;
    }[]) {
      expect(r.ms, name).toBeLessThan(control.ms * 3 + 3_000);
      expect({ name, code: r.code, signal: r.signal, stderr: r.stderr }).toEqual({
        name,
        code: 0,
        signal: null,
        stderr: expect.any(String),
      });
      expect(r.stdout).toBe(`${join(copy, "report.html")}\n`);
      const lines = `${skipped} line${skipped === 1 ? "" : "s"} skipped`;
      expect(warningsOf(r.stderr)).toEqual([
        expect.stringMatching(new RegExp(`^warning: journal\\.ndjson is damaged: ${lines} \\(`)),
      ]);
      const html = readFileSync(join(copy, "report.html"), "utf8");
      // The chart as it was: the damaged lines left out.
      expect(html).toContain('role="img"');
      expect(html).toContain(`${summary.rateLimited} answered 429, the first at 0:0`);
      expect(html).toContain(`journal.ndjson is damaged: ${lines}`);
      expect(html).toContain('data-total="rows">60<');
    }
  });

  it("a line of garbage: read up to it, the page says which line; a torn last line (a crash) is no damage", async () => {
    const garbage = damaged([], 'this is not JSON {"t":\n{"t":"q","ts":17');
    const lineCount = readFileSync(join(run.out, "journal.ndjson"), "utf8").split("\n").length;
    const torn = damaged([], '{"t":"q","ts":17');
    const [g, t] = await Promise.all([
      bounded(["report", garbage, "--html"]),
      bounded(["report", torn, "--html"]),
    ]);
    expect(g.code).toBe(0);
    expect(warningsOf(g.stderr)).toEqual([
      `warning: journal.ndjson is damaged: line ${lineCount} is not JSON, and the report reads the journal only up to it`,
    ]);
    expect(readFileSync(join(garbage, "report.html"), "utf8")).toContain(
      `line ${lineCount} is not JSON`,
    );
    expect(t.code).toBe(0);
    expect(t.stderr).toBe("");
    expect(readFileSync(join(torn, "report.html"), "utf8")).not.toContain("damaged");
  });

  it("resume of a damaged folder: the run's exit code, one warning, the page", async () => {
    const copy = damaged([
      '{"t":"q","ts":8.64e15,"ms":1,"st":207}',
      '{"t":"q","ts":-1e15,"ms":1,"st":207}',
      "null",
    ]);
    const r = await bounded(["resume", copy], run.env);
    expect({ code: r.code, signal: r.signal }).toEqual({ code: 1, signal: null });
    expect(warningsOf(r.stderr)).toEqual([
      expect.stringMatching(/^warning: journal\.ndjson is damaged: 3 lines skipped \(/),
    ]);
    expect(r.stderr).toContain(`report: ${join(copy, "report.html")}\n`);
    expect(readJson(join(copy, "summary.json"))).toMatchObject({ exitCode: 1 });
    const html = readFileSync(join(copy, "report.html"), "utf8");
    expect(html).toContain('data-exit-code="1"');
    expect(html).toContain("journal.ndjson is damaged: 3 lines skipped");
  });

  it("a damaged run.json: exit 2, naming the file and what is wrong, no stack trace", async () => {
    const cases: [string, RegExp][] = [
      ["null", /run\.json is damaged \(not a JSON object\)/],
      ['{"version":1,"command":"upsert"}', /run\.json is damaged \(no entity\)/],
      [
        '{"version":1,"command":"upsert","entity":"tolerances","client":{}}',
        /run\.json is damaged \(no input\)/,
      ],
    ];
    const results = await Promise.all(
      cases.map(async ([text, message]) => {
        const copy = copyOfRun();
        writeFileSync(join(copy, "run.json"), text);
        return { message, copy, r: await bounded(["report", copy, "--html"]) };
      }),
    );
    for (const { message, copy, r } of results) {
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).toContain(join(copy, "run.json"));
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
    }
  });
});

describe("the parts", () => {
  it("counts the records of a request body without parsing it", () => {
    expect(countJsonArray("[]")).toBe(0);
    expect(countJsonArray(" [ ] ")).toBe(0);
    expect(countJsonArray('[{"a":1}]')).toBe(1);
    expect(countJsonArray('[{"a":[1,2,{"b":","}]},{"c":"\\",]"},[],3]')).toBe(4);
    expect(countJsonArray('{"a":1}')).toBeUndefined();
    const records = Array.from({ length: 500 }, (_, i) => ({ k: i, s: `x,${i}]"` }));
    expect(countJsonArray(JSON.stringify(records))).toBe(500);
  });

  it("a chart of any span: at most 120 columns (plus session gaps), never a spread into Math.max", () => {
    expect([0, 1, 120, 121, 10_000_000, 1e11, 8.64e12].map(stepFor)).toEqual([
      1, 1, 1, 2, 86_400, 833_333_334, 72_000_000_000,
    ]);
    const bin = { requests: 3, rateLimited: 1, noAnswer: 1 };
    // A span of three million years (a journal's clock gone wrong): each session 1.2 M columns
    // of a day before, past the table and the call stack.
    const session = (n: number, seconds: number): TimelineSession => ({
      session: n,
      origin: 0,
      seconds,
      bins: new Map([
        [0, bin],
        [seconds - 1, bin],
      ]),
    });
    const began = performance.now();
    const chart = timelineChart(
      {
        sessions: [session(1, 1e14), session(2, 5e13), session(3, 1)],
        missing: undefined,
        untimedSessions: [],
      },
      40,
    ).text;
    expect(performance.now() - began).toBeLessThan(500);
    expect(chart.match(/<g><title>/g)).toHaveLength(5);
    expect(chart.match(/<line class="tick"/g)?.length).toBeLessThanOrEqual(20);
    expect(chart).toContain("Peak 3 requests/s at session 3, 0:00");
  });

  it("the journal for the report: skips what is not an entry or impossible, counts it, reads the rest", () => {
    const path = join(tempDir(), "journal.ndjson");
    const at = Date.parse("2026-01-05T08:30:00.000Z");
    const lines = [
      `{"t":"s","n":1,"at":"2026-01-05T08:30:00.000Z"}`,
      "null",
      "[]",
      "7",
      `{"t":"q","ts":${at + 1500},"ms":120,"st":207,"n":10}`,
      `{"t":"q","ts":${at - 59_000},"ms":1,"st":429}`, // a clock set back: within a minute
      `{"t":"q","ts":8.64e15,"ms":1,"st":207}`,
      `{"t":"q","ts":1e14,"ms":1,"st":207}`,
      `{"t":"q","ts":-1e15,"ms":1,"st":207}`,
      `{"t":"q","ts":${at - 61_000},"ms":1,"st":207}`,
      `{"t":"q","ts":${at},"ms":-1,"st":207}`,
      `{"t":"q","ts":${at},"ms":1,"st":2.5}`,
      `{"t":"q","ts":${at},"ms":1,"st":207,"n":1e300}`,
      `{"t":"c","fl":10,"sl":10,"s":1,"req":2,"ret":0,"rl":1,"ms":2000,"c":[1,2,-1,4294967296],"f":[3]}`,
      `{"t":"c","fl":-4,"s":1,"c":[5]}`,
    ];
    writeFileSync(path, `${lines.join("\n")}\n{"t":"q","ts":`);
    const seen: SettledRequest[] = [];
    const window = { from: at - 1000, to: at + 3_600_000 };
    const history = readJournalHistory(path, window, (_, r) => seen.push(r));
    expect(seen).toEqual([
      { at: at + 1500, ms: 120, status: 207, records: 10 },
      { at: at - 59_000, ms: 1, status: 429, records: undefined },
    ]);
    expect(history.counts).toEqual({ c: 3, u: 0, f: 1, i: 0 });
    // The last commit's length is impossible: the whole failed file is read.
    expect(history.failedLength).toBeUndefined();
    expect(history.damage).toEqual({ skipped: 3 + 7 + 2, stoppedAt: undefined });
    expect(history.sessions.map((s) => [s.session, s.requestLines])).toEqual([[1, 9]]);
    // resume skips what is not an entry, and impossible rows, too.
    expect(replayJournal(path).counts).toEqual({ c: 3, u: 0, f: 1, i: 0 });
    // A line that is not JSON ends the reading, and is named.
    writeFileSync(
      path,
      `${lines.slice(0, 5).join("\n")}\nnot JSON\n${lines.slice(5).join("\n")}\n`,
    );
    const cut = readJournalHistory(path, window, () => {});
    expect(cut.damage).toEqual({ skipped: 3, stoppedAt: 6 });
    expect(damageNote(cut.damage)).toBe(
      "journal.ndjson is damaged: 3 lines skipped (not a journal entry, or impossible numbers: a request's time outside the run, a negative duration, a row number that cannot be); line 6 is not JSON, and the report reads the journal only up to it",
    );
    expect(damageNote({ skipped: 0, stoppedAt: undefined })).toBeUndefined();
  });

  it("the end-of-run warning names whatever was thrown, on one line, and never throws itself", () => {
    const hostile = {
      get code(): string {
        throw new Error("no");
      },
    };
    const reasons = [
      Object.assign(new Error("x"), { code: "EISDIR" }),
      new RangeError("Maximum call stack size exceeded"),
      new Error("two\nlines\u001b[2J"),
      null,
      undefined,
      "a string",
      42,
      {},
      hostile,
      new Error("y".repeat(500)),
    ].map(reasonOf);
    expect(reasons.slice(0, 9)).toEqual([
      "EISDIR",
      "Maximum call stack size exceeded",
      "two lines\\x1b[2J",
      "null",
      "undefined",
      "a string",
      "42",
      "unknown error",
      "unknown error",
    ]);
    expect(reasons[9]).toHaveLength(200);
    expect(reportWarning("/runs/a b", null)).toBe(
      "warning: the HTML report was not written (null); the run itself is unaffected: vbapi report '/runs/a b' --html writes it again\n",
    );
  });

  it("shows a base URL without user info, query or fragment", () => {
    expect(displayUrl("https://user:pw@api.example/v1?key=SECRET#x")).toEqual({
      url: "https://api.example/v1",
      removed: "user info, query, fragment",
    });
    expect(displayUrl("http://127.0.0.1:4010")).toEqual({
      url: "http://127.0.0.1:4010",
      removed: undefined,
    });
    expect(displayUrl("not a url").url).toBe("(not a URL)");
  });
});
