// The OpenTelemetry SDK of a run, loaded only when an OTLP endpoint is set (run.ts imports this
// module lazily): a tracer provider (batching spans) and a meter provider (exporting metrics
// periodically and at the end) over the official OTLP/HTTP exporters, http/protobuf or
// http/json, and the AsyncLocalStorage context manager so every span of the run, the login's
// included, nests under the CLI's root span.
//
// A collector that is down or slow must not fail or hold up the run: the exporters are wrapped
// to note failed exports instead of logging them (no diag logger is registered, so the SDK's
// own messages stay off the terminal), and `shutdown` waits a bounded time.
import {
  context,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  type TracerProvider,
  trace,
} from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { type ExportResult, ExportResultCode } from "@opentelemetry/core";
import { OTLPMetricExporter as JsonMetricExporter } from "@opentelemetry/exporter-metrics-otlp-http";
import { OTLPMetricExporter as ProtoMetricExporter } from "@opentelemetry/exporter-metrics-otlp-proto";
import { OTLPTraceExporter as JsonTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { OTLPTraceExporter as ProtoTraceExporter } from "@opentelemetry/exporter-trace-otlp-proto";
import { defaultResource, resourceFromAttributes } from "@opentelemetry/resources";
import {
  MeterProvider,
  PeriodicExportingMetricReader,
  type PushMetricExporter,
  type ResourceMetrics,
} from "@opentelemetry/sdk-metrics";
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  type ReadableSpan,
  type SpanExporter,
} from "@opentelemetry/sdk-trace-base";
import type { SignalConfig, TelemetryConfig } from "./config.ts";

/** What run.ts uses of the API, loaded with the SDK (only when telemetry is on). */
export const api = { context, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace };

/** What became of the run's exports. */
export interface Delivery {
  delivered: boolean;
  /** Why not: an error code (`ECONNREFUSED`), `HTTP 401`, `timeout`: never a message or a URL. */
  reason?: string;
}

export interface Sdk {
  tracerProvider: TracerProvider | undefined;
  meterProvider: MeterProvider | undefined;
  /**
   * Exports what is left and shuts the SDK down: resolves after at most `budgetMs` (the exports
   * still running are abandoned), or as soon as `stop` resolves.
   */
  shutdown(budgetMs: number, stop: Promise<void>): Promise<Delivery>;
}

/** An export error as a short reason: its code or HTTP status, never its message. */
function reasonOf(error: unknown): string {
  const code = (error as { code?: unknown } | undefined)?.code;
  if (typeof code === "string" && /^[A-Z0-9_]+$/.test(code)) return code;
  if (typeof code === "number") return `HTTP ${code}`;
  if (error instanceof Error && /timed out/i.test(error.message)) return "timeout";
  return error instanceof Error ? error.name : "export failed";
}

/** Failed exports, noted by the wrapped exporters. */
class Failures {
  reason: string | undefined;
  note(result: ExportResult): ExportResult {
    if (result.code !== ExportResultCode.SUCCESS) this.reason ??= reasonOf(result.error);
    return result;
  }
}

/** Calls `exporter.export` and notes the result (a throw is a failed export too). */
function exportNoted<T>(
  failures: Failures,
  exporter: { export(items: T, done: (r: ExportResult) => void): void },
  items: T,
  done: (result: ExportResult) => void,
): void {
  try {
    exporter.export(items, (result) => done(failures.note(result)));
  } catch (error) {
    done(failures.note({ code: ExportResultCode.FAILED, error: error as Error }));
  }
}

class NotedSpanExporter implements SpanExporter {
  constructor(
    private readonly inner: SpanExporter,
    private readonly failures: Failures,
  ) {}
  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    exportNoted(this.failures, this.inner, spans, done);
  }
  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }
  forceFlush(): Promise<void> {
    return this.inner.forceFlush?.() ?? Promise.resolve();
  }
}

/** The metric exporter, noted; its temporality and aggregation choices are kept. */
function notedMetricExporter(inner: PushMetricExporter, failures: Failures): PushMetricExporter {
  return {
    export: (metrics: ResourceMetrics, done: (result: ExportResult) => void) =>
      exportNoted(failures, inner, metrics, done),
    forceFlush: () => inner.forceFlush(),
    shutdown: () => inner.shutdown(),
    ...(inner.selectAggregationTemporality && {
      selectAggregationTemporality: inner.selectAggregationTemporality.bind(inner),
    }),
    ...(inner.selectAggregation && { selectAggregation: inner.selectAggregation.bind(inner) }),
  };
}

const HEADER_VARS = ["HEADERS", "TRACES_HEADERS", "METRICS_HEADERS"].map(
  (v) => `OTEL_EXPORTER_OTLP_${v}`,
);

/**
 * Makes an exporter with the headers checked in config.ts only: the OTLP exporters also read
 * the header variables themselves (merged under the ones given), which would bring back the
 * entries config.ts refused. The constructor reads them synchronously; they are restored at once.
 */
function withoutHeaderVars<T>(make: () => T): T {
  const saved = HEADER_VARS.map((name) => [name, process.env[name]] as const);
  for (const name of HEADER_VARS) delete process.env[name];
  try {
    return make();
  } finally {
    for (const [name, value] of saved) if (value !== undefined) process.env[name] = value;
  }
}

const optionsOf = (signal: SignalConfig) => ({
  url: signal.url,
  headers: signal.headers,
  timeoutMillis: signal.timeoutMs,
});

function traceExporter(signal: SignalConfig): SpanExporter {
  const options = optionsOf(signal);
  return withoutHeaderVars(() =>
    signal.protocol === "http/json"
      ? new JsonTraceExporter(options)
      : new ProtoTraceExporter(options),
  );
}

function metricExporter(signal: SignalConfig): PushMetricExporter {
  const options = optionsOf(signal);
  return withoutHeaderVars(() =>
    signal.protocol === "http/json"
      ? new JsonMetricExporter(options)
      : new ProtoMetricExporter(options),
  );
}

export function startSdk(config: TelemetryConfig): Sdk {
  const failures = new Failures();
  const resource = defaultResource().merge(resourceFromAttributes(config.resource));
  const tracerProvider = config.traces
    ? new BasicTracerProvider({
        resource,
        spanProcessors: [
          new BatchSpanProcessor(new NotedSpanExporter(traceExporter(config.traces), failures)),
        ],
      })
    : undefined;
  const meterProvider = config.metrics
    ? new MeterProvider({
        resource,
        readers: [
          new PeriodicExportingMetricReader({
            exporter: notedMetricExporter(metricExporter(config.metrics), failures),
            exportIntervalMillis: config.metricIntervalMs,
            exportTimeoutMillis: Math.min(30_000, config.metricIntervalMs),
          }),
        ],
      })
    : undefined;
  // false when the host process (library use of `main`) has its own: that one is used and kept.
  const ownContext = context.setGlobalContextManager(
    new AsyncLocalStorageContextManager().enable(),
  );

  return {
    tracerProvider,
    meterProvider,
    async shutdown(budgetMs, stop) {
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<"timeout">((resolve) => {
        timer = setTimeout(() => resolve("timeout"), budgetMs);
      });
      // allSettled: a rejected shutdown is a failed delivery, never an unhandled rejection.
      const finished = Promise.allSettled([tracerProvider?.shutdown(), meterProvider?.shutdown()]);
      const outcome = await Promise.race([finished, timedOut, stop.then(() => "stopped" as const)]);
      clearTimeout(timer);
      if (ownContext) context.disable();
      if (outcome !== "timeout" && outcome !== "stopped") {
        const rejected = outcome.find((r) => r.status === "rejected");
        if (rejected) failures.reason ??= reasonOf((rejected as PromiseRejectedResult).reason);
      } else failures.reason ??= outcome;
      return failures.reason === undefined
        ? { delivered: true }
        : { delivered: false, reason: failures.reason };
    },
  };
}
