// `main(argv, io)`: the built CLI run inside another program (and by most of this suite's
// tests): the environment and streams it is given, not the process's; one run at a time; and
// nothing a run leaves behind (what it learnt of VBA, a login lock, an exit code) reaching the
// next run or the host process.
import { getEventListeners } from "node:events";
import { existsSync, readdirSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { PassThrough, Readable, Writable } from "node:stream";
import { startMockServer } from "@vbapi-sdk/mock-server";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { bodies, csvRun, db, env, server, tolerancesCsv, upsertArgs } from "./e2e-setup.ts";
import { capture, readJson, tempDir } from "./helpers.ts";
import { freePort } from "./proxy-harness.ts";

const { FileTokenCache, main } = (await import(
  /* @vite-ignore */ new URL("../dist/index.mjs", import.meta.url).href
)) as typeof import("../src/index.ts");

/** Whatever reaches the host process's own stdout and stderr while `fn` runs. */
async function hostOutput<T>(fn: () => Promise<T>): Promise<{ value: T; host: string }> {
  let host = "";
  const out = process.stdout.write;
  const err = process.stderr.write;
  const record = ((chunk: string | Uint8Array) => {
    host += String(chunk);
    return true;
  }) as typeof process.stdout.write;
  process.stdout.write = record;
  process.stderr.write = record;
  try {
    return { value: await fn(), host };
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
  }
}

async function run(argv: string[], runEnv: NodeJS.ProcessEnv, input?: string) {
  const stdout = capture();
  const stderr = capture();
  const code = await main(argv, {
    env: runEnv,
    stdout: stdout.stream,
    stderr: stderr.stream,
    stdin: Readable.from(input === undefined ? [] : [Buffer.from(input)]),
  });
  return { code, stdout: stdout.text(), stderr: stderr.text() };
}

describe("main(argv, io)", () => {
  let exitCodeBefore: typeof process.exitCode;
  beforeEach(() => {
    exitCodeBefore = process.exitCode;
  });
  afterEach(() => {
    process.exitCode = exitCodeBefore;
  });

  it("reads the given environment and stdin, writes the given streams, never the process's", async () => {
    // The credentials are in the given environment only.
    for (const name of Object.keys(env)) expect(process.env[name]).toBeUndefined();
    const database = db();
    const dir = tempDir();
    const { value: r, host } = await hostOutput(() =>
      run(
        [
          "upsert",
          "tolerances",
          "-",
          "--format",
          "csv",
          "--database",
          database,
          "--rate-limit",
          "off",
        ].concat(["--out", join(dir, "run"), "--json"]),
        { ...env },
        tolerancesCsv(3),
      ),
    );
    expect(r.code, r.stderr).toBe(0);
    expect(bodies(database, "Tolerance")).toHaveLength(3);
    expect(r.stdout).toContain('"event":"done"');
    const help = await hostOutput(() => run(["--help"], {}));
    expect(help.value.code).toBe(0);
    expect(help.value.stdout).toContain("Usage: vbapi");
    const bad = await hostOutput(() => run(["upsert", "nope", "x.csv"], {}));
    expect(bad.value.code).toBe(2);
    expect(bad.value.stderr).toContain("nope");
    expect(host + help.host + bad.host).toBe("");
  });

  it("without the variables in the given environment it says they are missing (the process's are not read)", async () => {
    const saved = Object.keys(env).map((name) => [name, process.env[name]] as const);
    Object.assign(process.env, env);
    try {
      const { file, database, out } = csvRun(tolerancesCsv(2));
      const r = await run(upsertArgs(file, database, out), {});
      expect(r.code).toBe(2);
      expect(r.stderr).toContain("set VBAPI_API_KEY");
      expect(bodies(database, "Tolerance")).toHaveLength(0);
    } finally {
      for (const [name, value] of saved)
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
    }
  });

  it("a second run while one is under way does not start: code 2, saying why, on its own stderr", async () => {
    server.setLatency({ fixedMs: 300 });
    try {
      const { file, database, out } = csvRun(tolerancesCsv(5));
      const first = run(upsertArgs(file, database, out), { ...env });
      const second = await run(["entities"], { ...env });
      expect(second.code).toBe(2);
      expect(second.stdout).toBe("");
      expect(second.stderr).toContain("another run of main() is under way in this process");
      const done = await first;
      expect(done.code, done.stderr).toBe(0);
      expect(bodies(database, "Tolerance")).toHaveLength(5);
      // And once it ended, the next one runs.
      expect((await run(["entities"], {})).code).toBe(0);
    } finally {
      server.setLatency(false);
    }
  });

  it("a run's exit code stays its own: the host's process.exitCode is untouched", async () => {
    process.exitCode = undefined;
    const { file, database, out } = csvRun("tolerance_Key,tolerance1\n1,not-a-number\n");
    const r = await run(upsertArgs(file, database, out), { ...env });
    expect(r.code).toBe(1);
    expect(process.exitCode).toBeUndefined();
  });

  it("each run learns afresh whether VBA answers: after a run that reached it, one that cannot stops at once", async () => {
    const ok = csvRun(tolerancesCsv(2));
    expect((await run(upsertArgs(ok.file, ok.database, ok.out), { ...env })).code).toBe(0);
    const port = await freePort();
    const down = csvRun(tolerancesCsv(2));
    const r = await run(upsertArgs(down.file, down.database, down.out), {
      ...env,
      VBAPI_BASE_URL: `http://127.0.0.1:${port}`,
    });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain(`cannot reach VBA at 127.0.0.1:${port}`);
    const summary = readJson<{ timings: { sessionMs: number }; heldBackUntil?: string }>(
      join(down.out, "summary.json"),
    );
    // Stopped at the first refused connection, not after a minute of retries.
    expect(summary.timings.sessionMs).toBeLessThan(5_000);
    // A refused connection sent nothing: no row is held back for a request that may still
    // land, so a resume once VBA is up sends every row at once.
    expect(summary.heldBackUntil).toBeUndefined();
    const up = await startMockServer({ port, rateLimit: false });
    try {
      const started = performance.now();
      const resumed = await run(["resume", down.out], {
        ...env,
        VBAPI_API_KEY: up.credentials.apiKey,
        VBAPI_TOKEN: up.credentials.token,
      });
      expect(resumed.code, resumed.stderr).toBe(0);
      expect(performance.now() - started).toBeLessThan(10_000);
      expect(up.store.list(down.database, "Tolerance")).toHaveLength(2);
    } finally {
      await up.close();
    }
  });

  it("a login the run stopped waiting for ends with it: no lock left, no login after main resolved", async () => {
    const port = await freePort();
    const cacheHome = join(tempDir(), "cache");
    const { file, out } = csvRun(tolerancesCsv(3));
    const loginEnv = {
      VBAPI_API_KEY: "test-api-key",
      VBAPI_USERNAME: "user",
      VBAPI_PASSWORD: "pw-SECRET",
      VBAPI_CLIENT_ID: "client",
      VBAPI_CLIENT_CODE: "code",
      VBAPI_BASE_URL: `http://127.0.0.1:${port}`,
      XDG_CACHE_HOME: cacheHome,
    };
    const r = await run(upsertArgs(file, "DB", out), loginEnv);
    expect(r.code).toBe(2);
    // Stopped at the login's first refused connection (a run that took an earlier run's
    // answers for this one's waited through the login's five attempts, 14 s).
    const summary = readJson<{ timings: { sessionMs: number } }>(join(out, "summary.json"));
    expect(summary.timings.sessionMs).toBeLessThan(5_000);
    const tokens = join(cacheHome, "vbapi", "tokens");
    const locks = () =>
      existsSync(tokens) ? readdirSync(tokens).filter((f) => f.endsWith(".lock")) : [];
    expect(locks()).toEqual([]);
    // VBA comes up on that port after main resolved: the abandoned login does not go on.
    const late = await startMockServer({ port, rateLimit: false });
    try {
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      expect(late.stats.requests).toBe(0);
      expect(locks()).toEqual([]);
    } finally {
      await late.close();
    }
    expect(r.stderr).not.toContain("pw-SECRET");
  });

  it("leaves the host's own login locks alone: only the run's go when it ends", async () => {
    const dir = join(tempDir(), "tokens");
    const cache = new FileTokenCache({ dir });
    const lockFiles = () => readdirSync(dir).filter((f) => f.endsWith(".lock"));
    await cache.withLock("host-login", 60_000, async () => {
      expect(lockFiles()).toHaveLength(1);
      expect((await run(["entities"], {})).code).toBe(0);
      expect(lockFiles()).toHaveLength(1);
    });
    expect(lockFiles()).toEqual([]);
  });

  it("an output that throws or fails ends the run with 2, never rejects, and leaves nothing running", async () => {
    const signals = () => process.listenerCount("SIGINT") + process.listenerCount("SIGTERM");
    const before = signals();
    const throwing = new Writable({
      write(_chunk, _encoding, done) {
        done();
      },
    });
    throwing.write = () => {
      throw new Error("write failed");
    };
    const { file, database, out } = csvRun(tolerancesCsv(3));
    const late: string[] = [];
    const { value: code, host } = await hostOutput(async () => {
      const c = await main([...upsertArgs(file, database, out), "--json"], {
        env: { ...env },
        stdout: throwing,
        stderr: capture().stream,
      });
      // Nothing of the run goes on after it (a progress ticker would write within 250 ms).
      await new Promise((resolve) => setTimeout(resolve, 600));
      return c;
    });
    late.push(host);
    expect(code).toBe(2);
    expect(signals()).toBe(before);
    expect(late).toEqual([""]);
    // EPIPE from a reader that went away: reported, not thrown in the host.
    const broken = new Writable({
      write(_chunk, _encoding, done) {
        done(Object.assign(new Error("broken pipe"), { code: "EPIPE" }));
      },
    });
    const stderr = capture();
    const r = await main(["template", "tolerances"], { stdout: broken, stderr: stderr.stream });
    expect(r).toBe(2);
    expect(stderr.text()).toContain("vbapi: stdout failed (EPIPE)");
    // The next run is a run like any other.
    expect((await run(["entities"], {})).code).toBe(0);
  });

  it("--log-format json: the run's lines are records, the host's stderr is not rewritten", async () => {
    const original = process.stderr.write;
    let patched = false;
    server.setLatency({ fixedMs: 200 });
    try {
      const { file, database, out } = csvRun(tolerancesCsv(2));
      const stderr = capture();
      const running = main([...upsertArgs(file, database, out), "--log-format", "json"], {
        env: { ...env },
        stderr: stderr.stream,
        stdout: capture().stream,
      });
      await new Promise((resolve) => setTimeout(resolve, 100));
      patched = process.stderr.write !== original;
      expect(await running).toBe(0);
      const lines = stderr.text().split("\n").filter(Boolean);
      expect(lines.length).toBeGreaterThan(0);
      for (const line of lines) expect(() => JSON.parse(line), line).not.toThrow();
    } finally {
      server.setLatency(false);
    }
    expect(patched).toBe(false);
  });

  it("buildProgram(), parsed by the caller, still sets process.exitCode", async () => {
    const { file } = csvRun("tolerance_Key,tolerance1\n1,not-a-number\n");
    const { buildProgram } = (await import(
      /* @vite-ignore */ new URL("../dist/index.mjs", import.meta.url).href
    )) as typeof import("../src/index.ts");
    process.exitCode = undefined;
    await hostOutput(() =>
      buildProgram().exitOverride().parseAsync(["validate", "tolerances", file], { from: "user" }),
    );
    expect(process.exitCode).toBe(1);
  });

  it("the ESM and CommonJS builds share the one-run-at-a-time rule", async () => {
    const cjs = createRequire(import.meta.url)(
      "../dist/index.cjs",
    ) as typeof import("../src/index.ts");
    server.setLatency({ fixedMs: 300 });
    try {
      const { file, database, out } = csvRun(tolerancesCsv(2));
      const first = run(upsertArgs(file, database, out), { ...env });
      const stderr = capture();
      const second = await cjs.main(["entities"], {
        stderr: stderr.stream,
        stdout: capture().stream,
      });
      expect(second).toBe(2);
      expect(stderr.text()).toContain("another run of main() is under way");
      expect((await first).code).toBe(0);
    } finally {
      server.setLatency(false);
    }
  });

  it("outputs that fail mid-run, or lack removeListener: main resolves, says so in the run's format, and the next run runs", async () => {
    // on() without removeListener(): watched only as far as it can be.
    const odd = { write: (_text: string) => true, on: () => odd } as unknown as Writable;
    expect(await main(["entities"], { stdout: odd, stderr: capture().stream })).toBe(0);
    // A write that throws from the second call on, while the progress ticker runs (the server
    // holds each answer 1 s): no uncaught error (vitest fails the file on one), code 2.
    server.setLatency({ fixedMs: 1_000 });
    try {
      let calls = 0;
      const flaky = new Writable({
        write(_chunk, _encoding, done) {
          done();
        },
      });
      flaky.write = () => {
        calls++;
        if (calls > 1) throw new Error("write failed");
        return true;
      };
      const { file, database, out } = csvRun(tolerancesCsv(3));
      const stderr = capture();
      const code = await main([...upsertArgs(file, database, out), "--json"], {
        env: { ...env },
        stdout: flaky,
        stderr: stderr.stream,
      });
      expect(code).toBe(2);
      expect(calls).toBeGreaterThan(1);
      expect(stderr.text()).toContain("vbapi: stdout failed (error)");
      // The rows were saved all the same (the run folder says so).
      expect(bodies(database, "Tolerance")).toHaveLength(3);
    } finally {
      server.setLatency(false);
    }
    // Broken stderr with --json: stdout stays NDJSON, the failure one of its events.
    const broken = () =>
      new Writable({
        write(_chunk, _encoding, done) {
          done(Object.assign(new Error("gone"), { code: "EPIPE" }));
        },
      });
    const out = capture();
    expect(
      await main(["upsert", "nope", "x.csv", "--json"], { stdout: out.stream, stderr: broken() }),
    ).toBe(2);
    const lines = out.text().split("\n").filter(Boolean);
    for (const line of lines) expect(() => JSON.parse(line), line).not.toThrow();
    expect(out.text()).toContain("stderr failed (EPIPE)");
    // Broken stdout with --log-format json: stderr stays records.
    const err = capture();
    expect(
      await main(["template", "tolerances", "--log-format", "json"], {
        stdout: broken(),
        stderr: err.stream,
      }),
    ).toBe(2);
    const records = err.text().split("\n").filter(Boolean);
    expect(records.length).toBeGreaterThan(0);
    for (const line of records) expect(() => JSON.parse(line), line).not.toThrow();
    expect((await run(["entities"], {})).code).toBe(0);
  });
});

describe("main(argv, { signal })", () => {
  it("aborted before: nothing runs, nothing is sent, code 130, said in the run's format", async () => {
    const { file, database, out } = csvRun(tolerancesCsv(5));
    const requests = server.stats.requests;
    const stdout = capture();
    const stderr = capture();
    const code = await main([...upsertArgs(file, database, out), "--json"], {
      env: { ...env },
      stdout: stdout.stream,
      stderr: stderr.stream,
      signal: AbortSignal.abort(),
    });
    expect(code).toBe(130);
    expect(server.stats.requests).toBe(requests);
    expect(existsSync(out)).toBe(false);
    expect(JSON.parse(stdout.text())).toMatchObject({ event: "error", exitCode: 130 });
    expect(stderr.text()).toContain("aborted before it started");
  });

  it("aborted during a load: no more rows, requests in flight aborted, 130, and resume completes every row", async () => {
    server.setLatency({ fixedMs: 200 });
    try {
      const { file, database, out } = csvRun(tolerancesCsv(100));
      const controller = new AbortController();
      const running = run2(
        [...upsertArgs(file, database, out), "--chunk-size", "10", "--concurrency", "1"],
        controller.signal,
      );
      await new Promise((resolve) => setTimeout(resolve, 700));
      controller.abort();
      const r = await running;
      expect(r.code, r.stderr).toBe(130);
      expect(r.stderr).toContain("aborted: no more rows are read");
      const summary = readJson<{ status: string; resumable: boolean }>(join(out, "summary.json"));
      expect(summary).toMatchObject({ status: "interrupted", resumable: true });
      const saved = bodies(database, "Tolerance").length;
      expect(saved).toBeGreaterThan(0);
      expect(saved).toBeLessThan(100);
      server.setLatency(false);
      const resumed = await run(["resume", out], { ...env });
      expect(resumed.code, resumed.stderr).toBe(0);
      expect(bodies(database, "Tolerance")).toHaveLength(100);
      expect(getEventListeners(controller.signal, "abort")).toHaveLength(0);
    } finally {
      server.setLatency(false);
    }
  });

  it("one signal across many runs, aborted after them: no listener left, nothing changes", async () => {
    const controller = new AbortController();
    const { file, database, out } = csvRun(tolerancesCsv(3));
    expect((await run2(upsertArgs(file, database, out), controller.signal)).code).toBe(0);
    for (let i = 0; i < 200; i++) {
      const r = await main(["entities"], { stdout: capture().stream, signal: controller.signal });
      expect(r).toBe(0);
    }
    expect(getEventListeners(controller.signal, "abort")).toHaveLength(0);
    controller.abort();
    expect(readJson<{ status: string }>(join(out, "summary.json")).status).toBe("complete");
    expect(bodies(database, "Tolerance")).toHaveLength(3);
  });
});

describe("main(argv, { signal }): what it is not, and validate", () => {
  it("a signal that is not an AbortSignal: 2, nothing runs, no listener left on the process", async () => {
    const signals = () => process.listenerCount("SIGINT") + process.listenerCount("SIGTERM");
    const before = signals();
    for (const signal of [{ aborted: false }, { aborted: true }, "x"]) {
      const { file, database, out } = csvRun(tolerancesCsv(2));
      const stderr = capture();
      const code = await main(upsertArgs(file, database, out), {
        env: { ...env },
        stderr: stderr.stream,
        stdout: capture().stream,
        signal: signal as unknown as AbortSignal,
      });
      expect(code).toBe(2);
      expect(stderr.text()).toContain("io.signal must be an AbortSignal");
      expect(existsSync(out)).toBe(false);
      expect(bodies(database, "Tolerance")).toHaveLength(0);
    }
    expect(signals()).toBe(before);
  });

  it("validate from a stdin that stalls: an abort ends it at once, 130, also when the input then ends", async () => {
    for (const endAfter of [false, true]) {
      const stdin = new PassThrough();
      stdin.write("tolerance_Key,tolerance1\n1,1\n");
      const controller = new AbortController();
      const stderr = capture();
      const started = performance.now();
      setTimeout(() => {
        controller.abort();
        if (endAfter) stdin.end();
      }, 200);
      const code = await main(["validate", "tolerances", "-", "--format", "csv"], {
        stdin,
        stdout: capture().stream,
        stderr: stderr.stream,
        signal: controller.signal,
      });
      expect({ endAfter, code }).toEqual({ endAfter, code: 130 });
      expect(performance.now() - started).toBeLessThan(2_000);
      // How many rows it validated (the parser may still hold the one written).
      expect(stderr.text()).toMatch(/aborted after [01] rows?: the file was not read to its end/);
    }
  });

  it("validate stops between rows when aborted: 130, saying how far it read", async () => {
    const dir = tempDir();
    const file = join(dir, "big.csv");
    writeFileSync(file, tolerancesCsv(300_000));
    const controller = new AbortController();
    const stdout = capture();
    const stderr = capture();
    setTimeout(() => controller.abort(), 50);
    const code = await main(["validate", "tolerances", file, "--json"], {
      stdout: stdout.stream,
      stderr: stderr.stream,
      signal: controller.signal,
    });
    expect(code).toBe(130);
    const last = JSON.parse(stdout.text().trim().split("\n").at(-1) as string);
    expect(last).toMatchObject({ event: "error", exitCode: 130 });
    expect(last.message).toMatch(/^aborted after [\d,]+ rows: the file was not read to its end$/);
    expect(last.message).not.toContain("300,000 rows");
  });
});

async function run2(argv: string[], signal: AbortSignal) {
  const stdout = capture();
  const stderr = capture();
  const code = await main(argv, {
    env: { ...env },
    stdout: stdout.stream,
    stderr: stderr.stream,
    signal,
  });
  return { code, stdout: stdout.text(), stderr: stderr.text() };
}
