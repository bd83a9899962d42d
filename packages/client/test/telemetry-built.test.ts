// The built client (dist/, what users install) carries the part of `@opentelemetry/api` it uses
// (the API costs 30 ms of CPU to load; issue 23). An application registers its SDK through its
// own copy of the API: the client's copy must find it through the API's global registry. Checked
// here over real HTTP: the application's span is the parent of the client's, the HTTP attempt
// carries `traceparent` with that trace, and the records counter reaches the application's
// meter provider, all registered globally and after the client was created.
import { existsSync, readFileSync } from "node:fs";
import { context, metrics, propagation, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { type MockServer, startMockServer } from "@vbapi-sdk/mock-server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type * as Client from "../src/index.ts";
import { metric, recorders } from "./otel-recorders.ts";

// The build, as a user imports it (vitest leaves packages' dist/ to Node: vitest.config.ts), typed
// by the sources: tsc does not follow the computed path, so `pnpm typecheck` (which runs beside
// the package's own build) does not read dist/ while it is rewritten.
// `pnpm test` builds first (turbo.json); a file run on its own reads what the last build wrote.
const built = new URL("../dist/index.mjs", import.meta.url);
if (!existsSync(built)) {
  throw new Error("packages/client/dist/ is missing: run `pnpm build` (pnpm test builds first)");
}
const { createVbapiClient } = (await import(built.href)) as typeof Client;

let server: MockServer;
beforeAll(async () => {
  server = await startMockServer({
    rateLimit: false,
    users: [
      {
        username: "built-user",
        password: "Built-Pass-Word-7",
        clientId: "cid",
        clientCode: "ccode",
        database: "builtdb",
      },
    ],
  });
});
afterAll(() => server?.close());

describe("the built client and an application's OpenTelemetry SDK", () => {
  it("imports no @opentelemetry package at run time (types only)", () => {
    for (const file of ["index.mjs", "index.cjs"]) {
      expect(readFileSync(new URL(`../dist/${file}`, import.meta.url), "utf8")).not.toMatch(
        /from ['"]@opentelemetry|require\(['"]@opentelemetry/,
      );
    }
    expect(readFileSync(new URL("../dist/index.d.mts", import.meta.url), "utf8")).toMatch(
      /from '@opentelemetry\/api'/,
    );
  });

  it("the README names the oldest API an application may register through: the copy built in", () => {
    // The API's copies read a global registered by the same major and at least their own minor
    // version: bumping the dependency raises that floor, and the README must say so.
    const built = readFileSync(new URL("../dist/index.mjs", import.meta.url), "utf8");
    const version = /\bVERSION = '(\d+)\.(\d+)\.\d+'/.exec(built);
    expect(version, "the API's VERSION constant in dist/index.mjs").not.toBeNull();
    const [, major, minor] = version as RegExpExecArray;
    const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8").replace(
      /\s+/g,
      " ",
    );
    expect(readme).toContain(`\`@opentelemetry/api\` ${major}.x (${major}.${minor} or later)`);
    const licence = new URL("../dist/third-party/@opentelemetry/api/LICENSE", import.meta.url);
    expect(readFileSync(licence, "utf8")).toContain("Apache License");
  });

  it("nests its spans under the application's, propagates the trace and feeds its metrics", async () => {
    const seen: (string | null)[] = [];
    const client = createVbapiClient({
      baseUrl: server.url,
      apiKey: server.credentials.apiKey,
      database: "builtdb",
      token: server.issueToken("built-user", { database: "builtdb" }),
      rateLimit: false,
      propagateTraceContext: true,
      fetch: (input, init) => {
        seen.push(new Headers(init?.headers).get("traceparent"));
        return fetch(input, init);
      },
    });
    // Registered after the client was made, through the application's copy of the API.
    const { exporter, tracerProvider, reader, meterProvider } = recorders();
    const contextManager = new AsyncLocalStorageContextManager().enable();
    context.setGlobalContextManager(contextManager);
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    trace.setGlobalTracerProvider(tracerProvider);
    metrics.setGlobalMeterProvider(meterProvider);
    try {
      const app = trace.getTracer("app");
      const { appSpan, result } = await app.startActiveSpan("import job", async (span) => {
        const result = await client.upsertBatch("Tolerance", [
          { tolerance_Key: 1, tolerance1: 0.5 },
          { tolerance_Key: 2, tolerance1: 1.5 },
        ]);
        span.end();
        return { appSpan: span, result };
      });
      expect(result.items.map((i) => i.outcome)).toEqual(["created", "created"]);
      const spans = exporter.getFinishedSpans();
      const batch = spans.find((s) => s.name === "vbapi.upsert_batch Tolerance");
      const attempt = spans.find((s) => s.name === "PUT /tolerances-batch");
      const { traceId, spanId } = appSpan.spanContext();
      expect(batch?.spanContext().traceId).toBe(traceId);
      expect(batch?.parentSpanContext?.spanId).toBe(spanId);
      expect(attempt?.parentSpanContext?.spanId).toBe(batch?.spanContext().spanId);
      expect(seen).toEqual([`00-${traceId}-${attempt?.spanContext().spanId}-01`]);
      const records = metric((await reader.collect()).resourceMetrics, "vbapi.records");
      expect(records?.dataPoints.reduce((n, p) => n + Number(p.value), 0)).toBe(2);
    } finally {
      trace.disable();
      metrics.disable();
      propagation.disable();
      context.disable();
      await tracerProvider.shutdown();
      await meterProvider.shutdown();
    }
  });
});
