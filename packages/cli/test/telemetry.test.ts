// End-to-end: the built `vbapi` exporting a run's traces and metrics over OTLP/HTTP to a receiver
// written here (otlp-receiver.ts), both protocols; one trace from the CLI's root span down to
// every HTTP attempt, its id in summary.json; a collector that is down or hangs never changes
// the exit code nor holds the run up more than 5 s, and costs one warning; nothing secret or
// from the records in what is exported or in the warnings; --log-format json.
import { describe, expect, it } from "vitest";
import { bin, events, vbapi } from "./helpers.ts";
import { metricPoints, type OtlpSpan, spansOf } from "./otlp-receiver.ts";
import {
  closedPort,
  endpoint,
  everything,
  expectNothingSecret,
  OTLP_KEY,
  receiver,
  server,
  setup,
  stderrLines,
  summaryOf,
} from "./telemetry-setup.ts";

const byName = (spans: OtlpSpan[], name: string) => spans.filter((s) => s.name === name);

describe.concurrent("exporting a run", () => {
  it("http/json: one trace, root span > vbapi.upsert_all > vbapi.upsert_batch > each HTTP attempt, the login nested; records counted; nothing secret", async () => {
    const run = setup(
      6,
      {
        OTEL_EXPORTER_OTLP_ENDPOINT: endpoint("json"),
        OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
        OTEL_EXPORTER_OTLP_HEADERS: `x-otlp-key=${OTLP_KEY},x-tenant=data%20ops`,
        OTEL_RESOURCE_ATTRIBUTES: "deployment.environment=e2e",
      },
      true,
    );
    // Log in (a span of its own), one 503 retried (two attempts in one batch), two rows refused.
    run.server.faults.failNext(1, 503, { target: { database: run.database } });
    run.server.faults.failRecords({
      keys: [{ tolerance_Key: 2 }, { tolerance_Key: 5 }],
      status: 409,
      message: "conflict",
      target: { database: run.database },
    });
    const r = await vbapi(run.args("--json", "--chunk-size", "2", "--concurrency", "1"), {
      env: run.env,
    });
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toBe("");
    const summary = summaryOf(run.out);
    expect(summary.totals).toMatchObject({ created: 4, failed: 2 });
    const received = receiver.received("json");
    for (const req of received) {
      expect(req.contentType).toBe("application/json");
      expect(req.headers["x-otlp-key"]).toBe(OTLP_KEY);
      expect(req.headers["x-tenant"]).toBe("data ops");
    }
    const spans = spansOf(received);
    // One trace, the one summary.json and the done event name.
    expect(summary.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(events(r.stdout).at(-1)).toMatchObject({ event: "done", traceId: summary.traceId });
    expect(new Set(spans.map((s) => s.traceId))).toEqual(new Set([summary.traceId]));
    const spanIds = new Set(spans.map((s) => s.spanId));
    const [root, ...otherRoots] = spans.filter((s) => s.parentSpanId === "");
    expect(otherRoots).toEqual([]);
    expect(root).toMatchObject({
      name: "vbapi upsert tolerances",
      attributes: {
        "vbapi.command": "upsert",
        "vbapi.entity": "Tolerance",
        "process.exit.code": 1,
      },
      resource: { "service.name": "vbapi", "deployment.environment": "e2e" },
    });
    const [all, ...moreRuns] = byName(spans, "vbapi.upsert_all Tolerance");
    expect(moreRuns).toEqual([]);
    expect(all?.parentSpanId).toBe(root?.spanId);
    expect(all?.attributes).toMatchObject({
      "vbapi.entity": "Tolerance",
      "vbapi.records.created": 4,
    });
    const batches = byName(spans, "vbapi.upsert_batch Tolerance");
    expect(batches).toHaveLength(3);
    for (const b of batches) expect(b.parentSpanId).toBe(all?.spanId);
    const attempts = byName(spans, "PUT /tolerances-batch");
    expect(attempts).toHaveLength(summary.requests);
    expect(attempts).toHaveLength(4); // 3 batches, one of them retried after the 503
    const batchIds = new Set(batches.map((b) => b.spanId));
    for (const a of attempts) {
      expect(batchIds.has(a.parentSpanId)).toBe(true);
      expect(a.attributes).toMatchObject({
        "url.template": "/tolerances-batch",
        "vbapi.entity": "Tolerance",
        "http.request.method": "PUT",
      });
    }
    expect(attempts.map((a) => a.attributes["http.response.status_code"]).sort()).toEqual([
      207, 207, 207, 503,
    ]);
    const [login] = byName(spans, "POST /user-authentication");
    expect(login?.attributes).toMatchObject({
      "url.template": "/user-authentication",
      "http.response.status_code": 200,
    });
    expect(spanIds.has(login?.parentSpanId ?? "")).toBe(true); // nested in the run, not a trace of its own
    // Metrics: the records by outcome match the run's totals; one duration per attempt.
    const records = metricPoints(received, "vbapi.records");
    const outcome = (o: string) =>
      records.filter((p) => p.attributes["vbapi.outcome"] === o).reduce((n, p) => n + p.value, 0);
    expect([outcome("created"), outcome("failed")]).toEqual([
      summary.totals.created,
      summary.totals.failed,
    ]);
    expect(records.every((p) => p.attributes["vbapi.entity"] === "Tolerance")).toBe(true);
    const durations = metricPoints(received, "http.client.request.duration").filter(
      (p) => p.attributes["url.template"] === "/tolerances-batch",
    );
    expect(durations.reduce((n, p) => n + (p.count ?? 0), 0)).toBe(4);
    expect(metricPoints(received, "vbapi.logins")).toEqual([
      { attributes: { "vbapi.outcome": "succeeded" }, value: 1 },
    ]);
    expectNothingSecret(received.map((q) => q.body.toString("utf8")).join("\n"), [OTLP_KEY]);
    expectNothingSecret(everything(received).replaceAll(OTLP_KEY, "")); // only its own header carries the key
    expect(r.stdout + r.stderr).not.toContain(OTLP_KEY);
  });

  it("http/protobuf (the default): protobuf bodies holding the span names and the run's trace id; nothing secret", async () => {
    const run = setup(3, { OTEL_EXPORTER_OTLP_ENDPOINT: endpoint("proto") });
    const r = await vbapi(run.args("--json"), { env: run.env });
    expect(r.code, r.stderr).toBe(0);
    const { traceId } = summaryOf(run.out);
    const received = receiver.received("proto");
    expect(received.map((q) => `${q.signal} ${q.contentType}`).sort()).toEqual([
      "metrics application/x-protobuf",
      "traces application/x-protobuf",
    ]);
    const [traces, metrics] = ["traces", "metrics"].map(
      (s) => received.find((q) => q.signal === s)?.body ?? Buffer.alloc(0),
    );
    expect(() => JSON.parse(String(traces))).toThrow(); // not JSON
    for (const name of [
      "vbapi upsert tolerances",
      "vbapi.upsert_all Tolerance",
      "vbapi.upsert_batch Tolerance",
      "PUT /tolerances-batch",
      "url.template",
    ]) {
      expect(traces?.includes(name), name).toBe(true);
    }
    // Every span carries the 16 bytes of the trace id: the root, the run, and each batch call
    // and HTTP attempt (more than one of those when a request was retried: once in CI, on a
    // busy machine, there were 6). Each span's name is in the body once.
    const id = Buffer.from(traceId ?? "", "hex");
    expect(id).toHaveLength(16);
    const body = traces ?? Buffer.alloc(0);
    const occurrences = (needle: Buffer | string) => {
      let n = 0;
      for (let at = body.indexOf(needle); at >= 0; at = body.indexOf(needle, at + 1)) n++;
      return n;
    };
    expect(occurrences("vbapi upsert tolerances")).toBe(1);
    expect(occurrences("vbapi.upsert_all Tolerance")).toBe(1);
    const calls = occurrences("vbapi.upsert_batch Tolerance");
    const attempts = occurrences("PUT /tolerances-batch");
    expect(calls).toBeGreaterThanOrEqual(1);
    expect(attempts).toBeGreaterThanOrEqual(calls);
    expect(occurrences(id)).toBe(2 + calls + attempts);
    expect(metrics?.includes("vbapi.records")).toBe(true);
    expectNothingSecret(everything(received));
  });

  it("a collector that is down (a closed port) or hangs: same exit code, at most 5 s longer, one warning without the key or the URL's credentials", async () => {
    const closed = await closedPort();
    const otel = (url: string) => ({
      OTEL_EXPORTER_OTLP_ENDPOINT: url,
      OTEL_EXPORTER_OTLP_HEADERS: `x-otlp-key=${OTLP_KEY}`,
    });
    const runs = {
      plain: setup(4),
      down: setup(4, otel(`http://user:URL-PW-SECRET@127.0.0.1:${closed}/x`)),
      hung: setup(
        4,
        otel(`http://user:URL-PW-SECRET@127.0.0.1:${new URL(receiver.url).port}/hang-1`),
      ),
    };
    for (const run of Object.values(runs))
      server.faults.failRecords({
        keys: [{ tolerance_Key: 3 }],
        status: 409,
        target: { database: run.database },
      });
    const timed = async (run: ReturnType<typeof setup>) => {
      const t0 = performance.now();
      // All three through the bin (telemetry runs always are): the same start-up in each time.
      const result = await bin(run.args("--json"), { env: run.env });
      return { result, ms: performance.now() - t0 };
    };
    // Side by side, so the three see the same load.
    const [plain, down, hung] = await Promise.all([
      timed(runs.plain),
      timed(runs.down),
      timed(runs.hung),
    ]);
    console.log(
      `run time: no telemetry ${plain.ms.toFixed(0)} ms, collector down ${down.ms.toFixed(0)} ms, collector hanging ${hung.ms.toFixed(0)} ms`,
    );
    expect(plain.result.code).toBe(1);
    expect(plain.result.stderr).toBe("");
    expect(summaryOf(runs.plain.out).traceId).toBeUndefined();
    expect(events(plain.result.stdout).at(-1)).not.toHaveProperty("traceId");
    for (const [t, reason] of [
      [down, "ECONNREFUSED"],
      [hung, "the collector did not answer in time"],
    ] as const) {
      expect(t.result.code).toBe(1);
      expect(t.ms - plain.ms).toBeLessThan(5000);
      expect(stderrLines(t.result)).toEqual([
        `warning: telemetry: not all traces and metrics were delivered to http://127.0.0.1:${new URL(t === down ? `http://x:${closed}` : receiver.url).port} (${reason}); the run itself is not affected`,
      ]);
      expect(t.result.stderr + t.result.stdout).not.toMatch(/URL-PW-SECRET|OTLP-HDR-SECRET|user@/);
    }
    // The hung collector did get the exports (it never answered them).
    expect(receiver.received("hang-1").length).toBeGreaterThan(0);
  });

  it("OTEL_SDK_DISABLED=true: nothing is sent, no trace id", async () => {
    const run = setup(2, {
      OTEL_EXPORTER_OTLP_ENDPOINT: endpoint("disabled"),
      OTEL_SDK_DISABLED: "true",
    });
    const r = await vbapi(run.args("--json"), { env: run.env });
    expect(r.code).toBe(0);
    expect(r.stderr).toBe("");
    expect(summaryOf(run.out).traceId).toBeUndefined();
    expect(receiver.received("disabled")).toEqual([]);
  });
});
