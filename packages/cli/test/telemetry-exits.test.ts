// End-to-end: the built `vbapi` exports its trace before every exit (2, 3, 130 from Ctrl-C in
// the session and before it, and resume), writes JSON log lines with --log-format json, turns
// bad telemetry variables into warnings that name them (never their values), and loads the
// OpenTelemetry SDK only when an endpoint is set.
import { spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { BIN, start, tempDir, vbapi } from "./helpers.ts";
import { type OtlpSpan, spansOf } from "./otlp-receiver.ts";
import {
  closedPort,
  endpoint,
  expectNothingSecret,
  receiver,
  setup,
  stderrLines,
  summaryOf,
} from "./telemetry-setup.ts";

const json = (tag: string, more: Record<string, string> = {}) => ({
  OTEL_EXPORTER_OTLP_ENDPOINT: endpoint(tag),
  OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
  ...more,
});

/** The root span (no parent) of what arrived for `tag`: there must be exactly one. */
function rootOf(tag: string): OtlpSpan {
  const roots = spansOf(receiver.received(tag)).filter((s) => s.parentSpanId === "");
  expect(roots).toHaveLength(1);
  return roots[0] as OtlpSpan;
}

describe.concurrent("every exit exports the run's trace", () => {
  it("exit 2: an unknown column (before anything is sent)", async () => {
    const run = setup(2, json("exit2"));
    writeFileSync(run.file, "tolerance_Key,tolerance1,Nope\n1,2,3\n");
    const r = await vbapi(run.args("--json"), { env: run.env });
    expect(r.code).toBe(2);
    expect(rootOf("exit2")).toMatchObject({
      name: "vbapi upsert tolerances",
      status: { code: 2 },
      attributes: { "process.exit.code": 2, "error.type": "ColumnError" },
    });
  });

  it("exit 3: the server refuses the token", async () => {
    const run = setup(2, json("exit3"));
    run.env.VBAPI_TOKEN = "not-the-token";
    const r = await vbapi(run.args("--json"), { env: run.env });
    expect(r.code).toBe(3);
    const root = rootOf("exit3");
    expect(root.attributes).toMatchObject({ "process.exit.code": 3 });
    const spans = spansOf(receiver.received("exit3"));
    expect(spans.some((s) => s.attributes["http.response.status_code"] === 401)).toBe(true);
    expect(summaryOf(run.out).traceId).toBe(root.traceId);
    expectNothingSecret(JSON.stringify(spans), ["not-the-token"]);
  });

  it("exit 130: Ctrl-C during the session; then `vbapi resume` is a trace of its own", async () => {
    const run = setup(400, json("sigint"));
    const slow = run.server.faults.delay(150, { target: { database: run.database } });
    const child = start(run.args("--json", "--chunk-size", "20", "--concurrency", "2"), {
      env: run.env,
    });
    await new Promise<void>((resolve) => {
      child.child.stdout?.on("data", () => {
        if (run.server.store.count(run.database, "Tolerance") > 0) resolve();
      });
    });
    child.child.kill("SIGINT");
    const r = await child.done;
    slow.cancel();
    expect(r.code).toBe(130);
    const interrupted = rootOf("sigint");
    expect(interrupted.attributes).toMatchObject({ "process.exit.code": 130 });
    expect(summaryOf(run.out).traceId).toBe(interrupted.traceId);

    const resumed = await vbapi(["resume", run.out, "--json"], {
      env: { ...run.env, ...json("resume") },
    });
    expect(resumed.code).toBe(0);
    const root = rootOf("resume");
    expect(root).toMatchObject({
      name: "vbapi resume",
      attributes: { "vbapi.command": "resume", "vbapi.entity": "Tolerance", "vbapi.session": 2 },
    });
    expect(root.traceId).not.toBe(interrupted.traceId);
    expect(summaryOf(run.out).traceId).toBe(root.traceId);
  });

  it("exit 130: Ctrl-C before the session (waiting for stdin), which used to kill the process unflushed", async () => {
    const run = setup(1, json("early"));
    const args = run.args("--json", "--log-format", "json").map((a) => (a === run.file ? "-" : a));
    // stdin stays open and empty: the CLI waits for the CSV header, before the session.
    const child = spawn(process.execPath, [BIN, ...args], {
      env: { ...process.env, ...run.env } as NodeJS.ProcessEnv,
      stdio: ["pipe", "ignore", "pipe"],
    });
    const exited = new Promise<[number | null, string | null]>((resolve) =>
      child.on("exit", (code, signal) => resolve([code, signal])),
    );
    // Telemetry says it is on once its signal handler is in place.
    let stderr = "";
    await new Promise<void>((resolve) =>
      child.stderr?.setEncoding("utf8").on("data", (d: string) => {
        stderr += d;
        if (stderr.includes("telemetry: exporting traces and metrics to")) resolve();
      }),
    );
    child.kill("SIGINT");
    expect(await exited).toEqual([130, null]);
    child.stdin?.destroy();
    expect(rootOf("early")).toMatchObject({
      name: "vbapi upsert tolerances",
      attributes: { "process.exit.code": 130 },
    });
  });
});

describe.concurrent("log lines and bad variables", () => {
  it("--log-format json: every stderr line is a JSON object with time, level, message, runDir and traceId; no progress", async () => {
    const run = setup(4, json("logjson"), true);
    run.server.faults.failNext(1, 503, { target: { database: run.database } });
    const r = await vbapi(run.args("--log-format", "json"), { env: run.env });
    expect(r.code).toBe(0);
    const { traceId } = summaryOf(run.out);
    const lines = stderrLines(r).map((l) => JSON.parse(l) as Record<string, unknown>);
    for (const line of lines) {
      expect(Object.keys(line)).toEqual(["time", "level", "message", "runDir", "traceId"]);
      expect(new Date(line.time as string).toISOString()).toBe(line.time);
      expect(["info", "warn", "error"]).toContain(line.level);
    }
    // Telemetry starts before the run folder exists; every later line names it.
    expect(lines[0]).toEqual({
      time: expect.any(String),
      level: "info",
      message: `telemetry: exporting traces and metrics to ${receiver.url} (http/json)`,
      runDir: null,
      traceId,
    });
    for (const line of lines.slice(1)) expect(line).toMatchObject({ runDir: run.out, traceId });
    const messages = lines.map((l) => `${l.level} ${l.message}`);
    expect(messages).toContainEqual(
      expect.stringMatching(/^warn PUT \/tolerances-batch: HTTP 503; retry 1\//),
    );
    expect(messages).toContain("info logged in (POST /user-authentication)");
    expect(messages).toContainEqual(expect.stringMatching(/^info tolerances: 4 rows: 4 succeeded/));
    expect(messages).not.toContainEqual(expect.stringMatching(/rows read, .* sent/)); // progress
    expectNothingSecret(r.stderr);

    // A usage error without telemetry: one line, level error, no run folder, no trace.
    const bad = await vbapi(["upsert", "tolerances", "/no/such/file.csv", "--log-format=json"], {
      env: { ...run.env, OTEL_EXPORTER_OTLP_ENDPOINT: undefined },
    });
    expect(bad.code).toBe(2);
    expect(stderrLines(bad).map((l) => JSON.parse(l))).toEqual([
      {
        time: expect.any(String),
        level: "error",
        message: "cannot read /no/such/file.csv: ENOENT",
        runDir: null,
        traceId: null,
      },
    ]);
  });

  it("--log-format json with --json: a Redis outage is a warn line on stderr; stdout stays NDJSON", async () => {
    const run = setup(2, {}, true);
    const redis = `redis://127.0.0.1:${await closedPort()}`;
    const r = await vbapi(run.args("--json", "--log-format", "json", "--redis", redis), {
      env: run.env,
    });
    expect(r.code).toBe(0);
    const lines = stderrLines(r).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toContainEqual(
      expect.objectContaining({
        level: "warn",
        message: expect.stringMatching(/^@vbapi-sdk\/redis: Redis is unreachable/),
        runDir: run.out,
        traceId: null,
      }),
    );
    for (const line of r.stdout.split("\n").filter(Boolean))
      expect(JSON.parse(line)).toHaveProperty("event");
  });

  it("bad variables: one warning each, naming the variable and never its value; the run and the rest of the telemetry go on", async () => {
    const run = setup(2, {
      OTEL_EXPORTER_OTLP_ENDPOINT: endpoint("badvars"),
      OTEL_EXPORTER_OTLP_HEADERS: `x-good=ok,NO-EQUALS-SECRET-1,bad name=SECRET-2,k=%E0%A4%A-SECRET-3`,
      OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: "not a url SECRET-4",
      OTEL_EXPORTER_OTLP_PROTOCOL: "grpc",
      OTEL_RESOURCE_ATTRIBUTES: "=SECRET-5",
    });
    const r = await vbapi(run.args("--json"), { env: run.env });
    expect(r.code).toBe(0);
    expect(stderrLines(r)).toEqual([
      "warning: OTEL_RESOURCE_ATTRIBUTES: entry 1 is not a key=value pair (comma-separated, URL-encoded): ignored",
      "warning: OTEL_EXPORTER_OTLP_HEADERS: entries 2, 3 and 4 are not a key=value pair a header can carry (comma-separated, URL-encoded): ignored",
      "warning: OTEL_EXPORTER_OTLP_PROTOCOL: vbapi exports over http/protobuf or http/json only (no gRPC): using http/protobuf",
      "warning: OTEL_EXPORTER_OTLP_METRICS_ENDPOINT is not an http(s) URL: metrics are not exported",
    ]);
    const received = receiver.received("badvars");
    expect(received.map((q) => [q.signal, q.contentType, q.headers["x-good"]])).toEqual([
      ["traces", "application/x-protobuf", "ok"],
    ]);
    expect(JSON.stringify(received.map((q) => q.headers))).not.toContain("SECRET");
    expect(summaryOf(run.out).traceId).toMatch(/^[0-9a-f]{32}$/);
  });

  it("the OpenTelemetry SDK is loaded only when an endpoint is set", async () => {
    // A module hook (node --import) that notes every @opentelemetry package the bin imports.
    const dir = tempDir();
    const log = join(dir, "loaded.txt");
    const hooks = join(dir, "hooks.mjs");
    writeFileSync(
      hooks,
      `import { appendFileSync } from "node:fs";
export async function resolve(specifier, context, next) {
  const found = await next(specifier, context);
  if (specifier.startsWith("@opentelemetry/")) appendFileSync(process.env.OTEL_LOAD_LOG, specifier + "\\n");
  return found;
}\n`,
    );
    const register = join(dir, "register.mjs");
    writeFileSync(
      register,
      `import { register } from "node:module";\nregister(${JSON.stringify(pathToFileURL(hooks).href)});\n`,
    );
    const loaded = async (otel: Record<string, string>, name: string) => {
      const run = setup(1, otel);
      const file = `${log}.${name}`;
      writeFileSync(file, "");
      const r = await vbapi(run.args("--json"), {
        env: {
          ...run.env,
          NODE_OPTIONS: `--import=${pathToFileURL(register).href}`,
          OTEL_LOAD_LOG: file,
        },
      });
      expect(r.code, r.stderr).toBe(0);
      return new Set(readFileSync(file, "utf8").split("\n").filter(Boolean));
    };
    const [off, on] = await Promise.all([
      loaded({}, "off"),
      loaded({ OTEL_EXPORTER_OTLP_ENDPOINT: endpoint("lazy") }, "on"),
    ]);
    // Not even the API: the SDK client carries what it uses of it (a no-op without an SDK), and
    // the CLI's own use of it comes with the SDK.
    expect(off).toEqual(new Set());
    for (const pkg of [
      "sdk-trace-base",
      "sdk-metrics",
      "exporter-trace-otlp-proto",
      "context-async-hooks",
    ]) {
      expect(on.has(`@opentelemetry/${pkg}`), pkg).toBe(true);
    }
  });
});
