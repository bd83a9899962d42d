// In-memory OpenTelemetry for the telemetry tests: spans kept by an in-memory exporter, metrics
// read on demand (cumulative), over the application side's copy of the API (node_modules).
import {
  AggregationTemporality,
  MeterProvider,
  MetricReader,
  type ResourceMetrics,
} from "@opentelemetry/sdk-metrics";
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from "@opentelemetry/sdk-trace-base";

/** A metric reader that collects only when asked. */
export class TestReader extends MetricReader {
  constructor() {
    super({ aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE });
  }
  protected override async onForceFlush() {}
  protected override async onShutdown() {}
}

/** A tracer provider and a meter provider that keep what they record. */
export function recorders() {
  const exporter = new InMemorySpanExporter();
  const reader = new TestReader();
  return {
    exporter,
    reader,
    tracerProvider: new BasicTracerProvider({
      spanProcessors: [new SimpleSpanProcessor(exporter)],
    }),
    meterProvider: new MeterProvider({ readers: [reader] }),
  };
}

/** The metric of that name in what a reader collected. */
export function metric(rm: ResourceMetrics, name: string) {
  return rm.scopeMetrics.flatMap((s) => s.metrics).find((m) => m.descriptor.name === name);
}
