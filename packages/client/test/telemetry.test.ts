// OpenTelemetry over real HTTP against the reference server: the SDK's spans (one client span per
// HTTP attempt under a span per upsertBatch call and per upsertAll run, the login as its own
// span), their attributes and events, the metrics, trace context propagation only when asked
// for, and never a credential anywhere in what is exported, on success or failure.
import { context, propagation, type TracerProvider, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import type { MeterProvider, ResourceMetrics } from "@opentelemetry/sdk-metrics";
import type {
  BasicTracerProvider,
  InMemorySpanExporter,
  ReadableSpan,
} from "@opentelemetry/sdk-trace-base";
import { type MockServer, startMockServer } from "@vbapi-sdk/mock-server";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { upsertAllTolerances } from "../src/bulk/index.ts";
import { createVbapiClient, type VbapiClientOptions } from "../src/client/client.ts";
import { passwordLogin } from "../src/index.ts";
import { closedPort } from "./helpers.ts";
import { metric, recorders, type TestReader } from "./otel-recorders.ts";

const USER = {
  username: "otel-user",
  password: "Otel-Pass-Word-91",
  clientId: "cid",
  clientCode: "ccode",
};
let server: MockServer;
let exporter: InMemorySpanExporter;
let tracerProvider: BasicTracerProvider;
let reader: TestReader;
let meterProvider: MeterProvider;
const contextManager = new AsyncLocalStorageContextManager();

beforeAll(async () => {
  server = await startMockServer({
    rateLimit: false,
    users: [{ ...USER, database: "oteldb" }],
  });
  context.setGlobalContextManager(contextManager.enable());
});
afterAll(async () => {
  context.disable();
  await server?.close();
});
beforeEach(() => {
  server.reset();
  ({ exporter, tracerProvider, reader, meterProvider } = recorders());
});
afterEach(async () => {
  await meterProvider.shutdown();
  await tracerProvider.shutdown();
});

function client(options: Partial<VbapiClientOptions> = {}) {
  const common = { baseUrl: server.url, apiKey: server.credentials.apiKey, database: "oteldb" };
  return createVbapiClient({
    ...common,
    token: passwordLogin({ ...USER, ...common, tracerProvider, meterProvider }),
    tracerProvider,
    meterProvider,
    rateLimit: false,
    maxRetries: 2,
    backoff: { initialDelayMs: 1, maxDelayMs: 5 },
    logLevel: "off",
    ...options,
  });
}

const tolerances = (n: number, from = 1) =>
  Array.from({ length: n }, (_, i) => ({ tolerance_Key: from + i, tolerance1: 0.5 }));

const spans = () => exporter.getFinishedSpans();
const named = (name: string) => spans().filter((s) => s.name === name);
const parentOf = (span: ReadableSpan) => span.parentSpanContext?.spanId;

async function collected(): Promise<ResourceMetrics> {
  const { resourceMetrics, errors } = await reader.collect();
  expect(errors).toEqual([]);
  return resourceMetrics;
}

/** Everything exported, as text: span names, attributes, events, statuses, links and metrics. */
async function everythingExported(): Promise<string> {
  const text = spans().map((s) =>
    JSON.stringify({
      name: s.name,
      attributes: s.attributes,
      events: s.events,
      status: s.status,
      links: s.links,
      resource: s.resource.attributes,
    }),
  );
  return `${text.join("\n")}\n${JSON.stringify(await collected())}`;
}

async function expectNoSecret(extra: string[] = []) {
  const text = await everythingExported();
  const basic = Buffer.from(`${USER.username}:${USER.password}`).toString("base64");
  for (const secret of [USER.password, server.credentials.apiKey, basic, ...extra]) {
    expect(text).not.toContain(secret);
  }
  // No bearer token either: every token this server issued is a JWT starting "eyJ".
  expect(text).not.toMatch(/eyJ[\w-]{10,}/);
}

describe("spans", () => {
  it("upsertBatch: a parent span, a client span per attempt with the HTTP conventions, the login under it", async () => {
    server.faults.failNext(1, 503);
    server.faults.failRecords({ keys: [{ tolerance_Key: 2 }], status: 409, message: "conflict" });
    const result = await client().upsertBatch("Tolerance", tolerances(3));
    expect(result.failed).toBe(1);

    const [batch] = named("vbapi.upsert_batch Tolerance");
    expect(batch?.attributes).toMatchObject({
      "vbapi.entity": "Tolerance",
      "vbapi.records": 3,
      "vbapi.records.failed": 1,
      "vbapi.database": "oteldb",
    });
    expect(batch?.attributes["vbapi.activity_id"]).toEqual(result.activityId);
    expect(batch?.events.map((e) => e.name)).toContain("vbapi.retry");

    const attempts = named("PUT /tolerances-batch");
    expect(attempts).toHaveLength(2);
    for (const attempt of attempts) {
      expect(attempt.kind).toBe(2); // SpanKind.CLIENT
      expect(parentOf(attempt)).toBe(batch?.spanContext().spanId);
      expect(attempt.attributes).toMatchObject({
        "http.request.method": "PUT",
        "url.full": `${server.url}/tolerances-batch`,
        "url.template": "/tolerances-batch",
        "server.address": "127.0.0.1",
        "server.port": server.port,
        "vbapi.entity": "Tolerance",
        "vbapi.records": 3,
      });
    }
    const [first, second] = attempts;
    expect(first?.attributes).toMatchObject({
      "http.response.status_code": 503,
      "error.type": "503",
    });
    expect(first?.status.code).toBe(2); // ERROR
    expect(second?.attributes).toMatchObject({
      "http.response.status_code": 207,
      "http.request.resend_count": 1,
      "vbapi.records.failed": 1,
    });
    expect(second?.attributes["vbapi.activity_id"]).toBe(result.activityId);
    expect(second?.attributes["error.type"]).toBeUndefined();

    const [login] = named("POST /user-authentication");
    expect(login?.attributes).toMatchObject({
      "http.request.method": "POST",
      "url.template": "/user-authentication",
      "http.response.status_code": 200,
    });
    // The login ran inside the call: its span is a child of the batch span.
    expect(parentOf(login as ReadableSpan)).toBe(batch?.spanContext().spanId);
    await expectNoSecret();
  });

  it("upsertAll: one run span with the totals over one batch span per request", async () => {
    const report = await upsertAllTolerances(client(), tolerances(25), { chunkSize: 10 });
    expect(report.totals.created).toBe(25);
    const [run] = named("vbapi.upsert_all Tolerance");
    expect(run?.attributes).toMatchObject({
      "vbapi.entity": "Tolerance",
      "vbapi.records": 25,
      "vbapi.records.created": 25,
      "vbapi.records.failed": 0,
      "vbapi.records.not_attempted": 0,
      "vbapi.requests": 3,
    });
    const batches = named("vbapi.upsert_batch Tolerance");
    expect(batches).toHaveLength(3);
    for (const b of batches) expect(parentOf(b)).toBe(run?.spanContext().spanId);
    expect(batches.reduce((n, b) => n + Number(b.attributes["vbapi.records"]), 0)).toBe(25);
    const attempts = named("PUT /tolerances-batch");
    expect(attempts.map(parentOf).sort()).toEqual(
      batches.map((b) => b.spanContext().spanId).sort(),
    );
    // All in one trace.
    expect(new Set(spans().map((s) => s.spanContext().traceId)).size).toBe(1);
    await expectNoSecret();
  });

  it("failures carry error.type and never a credential: wrong password, 401, refused connection", async () => {
    const wrong = "Wrong-Password-123";
    const common = { baseUrl: server.url, apiKey: server.credentials.apiKey, database: "oteldb" };
    const bad = client({
      token: passwordLogin({ ...USER, ...common, password: wrong, tracerProvider, meterProvider }),
    });
    await expect(bad.upsertBatch("Tolerance", tolerances(1))).rejects.toThrow();
    const [login] = named("POST /user-authentication");
    expect(login?.attributes["error.type"]).toBe("401");

    server.faults.failNext(2, 401);
    await expect(client().upsertBatch("Tolerance", tolerances(1))).rejects.toThrow();

    const port = await closedPort();
    const closed = createVbapiClient({
      baseUrl: `http://127.0.0.1:${port}`,
      apiKey: server.credentials.apiKey,
      database: "oteldb",
      token: "static-secret-token-value",
      tracerProvider,
      meterProvider,
      maxRetries: 0,
      logLevel: "off",
    });
    await expect(closed.upsertBatch("Tolerance", tolerances(1))).rejects.toThrow();
    const refused = named("PUT /tolerances-batch").at(-1);
    expect(refused?.attributes["error.type"]).toBe("ECONNREFUSED");
    await expectNoSecret([wrong, "static-secret-token-value"]);
  });

  it("telemetry: false records nothing; traceparent goes to VBA only when asked for", async () => {
    await client({ telemetry: false }).upsertBatch("Tolerance", tolerances(1));
    expect(spans().filter((s) => s.name.startsWith("PUT") || s.name.startsWith("vbapi"))).toEqual(
      [],
    );

    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    try {
      const seen: (string | null)[] = [];
      const watching: typeof fetch = (input, init) => {
        seen.push(new Headers(init?.headers).get("traceparent"));
        return fetch(input, init);
      };
      await client({ fetch: watching }).upsertBatch("Tolerance", tolerances(1));
      expect(seen).toEqual([null]);
      await client({ fetch: watching, propagateTraceContext: true }).upsertBatch(
        "Tolerance",
        tolerances(1),
      );
      const attempt = named("PUT /tolerances-batch").at(-1) as ReadableSpan;
      const { traceId, spanId } = attempt.spanContext();
      expect(seen[1]).toBe(`00-${traceId}-${spanId}-01`);
    } finally {
      propagation.disable();
    }
  });
});

describe("metrics", () => {
  it("request durations, records by outcome, 429s and logins", async () => {
    server.faults.failNext(1, 429, { retryAfter: 0 });
    server.faults.failRecords({ keys: [{ tolerance_Key: 3 }], status: 422, message: "no" });
    const c = client();
    await c.upsertBatch("Tolerance", tolerances(4));
    const report = await upsertAllTolerances(c, tolerances(6, 100), { chunkSize: 3 });
    expect(report.totals.created).toBe(6);
    const rm = await collected();

    const duration = metric(rm, "http.client.request.duration");
    expect(duration?.descriptor.unit).toBe("s");
    const points = duration?.dataPoints ?? [];
    const count = (status: number) =>
      points
        .filter((p) => p.attributes["http.response.status_code"] === status)
        .reduce((n, p) => n + (p.value as { count: number }).count, 0);
    expect(count(429)).toBe(1);
    expect(count(207)).toBe(3);
    expect(count(200)).toBe(1); // the login
    expect(points.every((p) => typeof p.attributes["url.template"] === "string")).toBe(true);

    const records = metric(rm, "vbapi.records")?.dataPoints ?? [];
    const by = (outcome: string) =>
      records
        .filter((p) => p.attributes["vbapi.outcome"] === outcome)
        .reduce((n, p) => n + Number(p.value), 0);
    expect(by("created")).toBe(3 + 6);
    expect(by("failed")).toBe(1);
    expect(records.every((p) => p.attributes["vbapi.entity"] === "Tolerance")).toBe(true);
    expect(metric(rm, "vbapi.rate_limited")?.dataPoints[0]?.value).toBe(1);
    expect(metric(rm, "vbapi.logins")?.dataPoints[0]).toMatchObject({
      value: 1,
      attributes: { "vbapi.outcome": "succeeded" },
    });
    await expectNoSecret();
  });

  it("a meter provider registered after the client is created is used", async () => {
    const { metrics } = await import("@opentelemetry/api");
    const c = createVbapiClient({
      baseUrl: server.url,
      apiKey: server.credentials.apiKey,
      database: "oteldb",
      token: server.issueToken(USER.username, { database: "oteldb" }),
      rateLimit: false,
    });
    await c.upsertBatch("Tolerance", tolerances(1));
    metrics.setGlobalMeterProvider(meterProvider);
    trace.setGlobalTracerProvider(tracerProvider);
    try {
      await c.upsertBatch("Tolerance", tolerances(2, 10));
      const records = metric(await collected(), "vbapi.records")?.dataPoints ?? [];
      expect(records.reduce((n, p) => n + Number(p.value), 0)).toBe(2);
      expect(named("vbapi.upsert_batch Tolerance")).toHaveLength(1);
    } finally {
      metrics.disable();
      trace.disable();
    }
  });
});

describe("reviewed edges", () => {
  it("a 207 that echoes the credentials and the records: no secret or record value in items, spans or metrics", async () => {
    const token = server.issueToken(USER.username, { database: "oteldb" });
    const secretValue = "GRP-SECRET-417";
    // A VBA that quotes the request back: its headers in the activity id, a record's value and
    // the API key in each per-record message.
    const echoing: typeof fetch = async (input, init) => {
      const answer = await fetch(input, init);
      const headers = new Headers(init?.headers);
      const body = (await answer.json()) as {
        data: { body: string }[];
        debug: { activityID: string };
      };
      body.debug.activityID = `${headers.get("authorization")} ${headers.get("x-api-key")}`;
      for (const entry of body.data) {
        entry.body = `refused ${headers.get("x-api-key")} for group ${secretValue}`;
      }
      return new Response(JSON.stringify(body), { status: answer.status, headers: answer.headers });
    };
    const c = client({ fetch: echoing, token });
    const result = await c.upsertBatch("Tolerance", [
      { tolerance_Key: 1, tolerance1: 0.5, group_ID: secretValue },
    ]);
    const text = JSON.stringify(result);
    for (const secret of [token, server.credentials.apiKey, secretValue]) {
      expect(text).not.toContain(secret);
    }
    expect(result.items[0]?.message).toContain("[redacted]");
    await expectNoSecret([token, secretValue]);
  });

  it("counts records as they become final during a run, once each, also through a client-like wrapper", async () => {
    const c = client();
    const seen: Promise<number>[] = [];
    const sum = async () =>
      (metric(await collected(), "vbapi.records")?.dataPoints ?? []).reduce(
        (n, p) => n + Number(p.value),
        0,
      );
    const report = await upsertAllTolerances(c, tolerances(12, 300), {
      chunkSize: 1,
      concurrency: 1,
      onRecord: () => {
        if (seen.length === 6) seen.push(sum());
        else seen.push(Promise.resolve(-1));
      },
    });
    expect(report.totals.created).toBe(12);
    // Halfway through, the collector already saw the records final by then.
    expect(await seen[6]).toBeGreaterThanOrEqual(6);
    expect(await sum()).toBe(12);
    // A wrapper calls the client's public upsertBatch; a 503 makes every record go twice.
    server.faults.failRecords({ status: 503, message: "busy" });
    const wrapper = { upsertBatch: c.upsertBatch.bind(c) };
    setTimeout(() => server.faults.clear(), 150);
    const again = await upsertAllTolerances(wrapper as never, tolerances(5, 400), {
      chunkSize: 5,
      recordRetryDelayMs: 200,
    });
    expect(again.totals.created).toBe(5);
    // Counted once each, by the run (the client inside the wrapper hands its telemetry over),
    // not once per attempt by upsertBatch.
    expect(await sum()).toBe(17);
    // An onRecord that throws stops the stream; the totals are still all counted at the end.
    const stopped = await upsertAllTolerances(c, tolerances(20, 500), {
      chunkSize: 2,
      onRecord: () => {
        throw new Error("the caller's callback failed");
      },
    }).catch((e: { report?: { totals: { total: number } } }) => e.report);
    expect(stopped?.totals.total).toBe(20);
    expect(await sum()).toBe(17 + 20);
  });

  it("passwordLogin refuses a base URL holding credentials, without echoing them", () => {
    expect(() =>
      passwordLogin({
        ...USER,
        database: "d",
        apiKey: "k",
        baseUrl: "https://proxyuser:PROXY-SECRET-77@vba.example/vbasoftware",
      }),
    ).toThrow(/baseUrl must not hold credentials/);
    try {
      passwordLogin({
        ...USER,
        database: "d",
        apiKey: "k",
        baseUrl: "https://u:PROXY-SECRET-77@x",
      });
    } catch (error) {
      expect(String(error)).not.toContain("PROXY-SECRET-77");
    }
  });
});

describe("raw calls", () => {
  it("are named by the spec's path template, never by the values in the URL", async () => {
    const c = client({ token: server.issueToken(USER.username, { database: "oteldb" }) });
    await c.raw.PUT("/provider-credentialing/{providerCredKey}/services-batch", {
      params: { path: { providerCredKey: 5021 }, header: { "vbasoftware-database": "oteldb" } },
      body: [{ providerCred_Key: 5021, credService_Key: 1, percentage: 10 }],
    });
    const names = spans().map((s) => s.name);
    expect(names).toContain("PUT /provider-credentialing/{providerCredKey}/services-batch");
    expect(names.join(" ")).not.toContain("5021");
    const points = metric(await collected(), "http.client.request.duration")?.dataPoints ?? [];
    expect(JSON.stringify(points.map((p) => p.attributes))).not.toContain("5021");
  });

  // Hostile review of 0d334a6: the tracer is looked up when the provider changes, at a span's
  // start; a provider that throws there must cost the spans, never the call or its accounting.
  const throwing = {
    getTracer: () => {
      throw new Error("getTracer exploded");
    },
  } as unknown as TracerProvider;

  it("a tracer provider whose getTracer throws, given as an option: the calls go on, untraced", async () => {
    const c = client({ tracerProvider: throwing });
    const batch = await c.upsertBatch("Tolerance", tolerances(1));
    expect(batch.items[0]?.outcome).toBe("created");
    const report = await upsertAllTolerances(c, tolerances(2, 10));
    expect(report.totals.created).toBe(2);
  });

  it("a provider that throws, registered during a retry after attempt 1 was applied: reported updated, not failed", async () => {
    trace.setGlobalTracerProvider(tracerProvider);
    let n = 0;
    try {
      const c = client({
        tracerProvider: undefined,
        maxRetries: 1,
        backoff: { initialDelayMs: 50, maxDelayMs: 50 },
        fetch: async (input, init) => {
          const answer = await fetch(input, init); // applied by the server
          if (++n > 1) return answer;
          setTimeout(() => {
            trace.disable();
            trace.setGlobalTracerProvider(throwing);
          }, 10);
          return new Response("busy", { status: 503 }); // its answer lost
        },
      });
      const report = await upsertAllTolerances(c, tolerances(1, 30));
      expect(server.store.count("oteldb", "Tolerance")).toBe(1);
      expect(report.items[0]).toMatchObject({ outcome: "updated" });
    } finally {
      trace.disable();
    }
  });
});
