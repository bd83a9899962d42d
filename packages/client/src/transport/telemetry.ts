// OpenTelemetry, the library way: the SDK talks only to `@opentelemetry/api`, which does nothing
// until the application registers an SDK (or passes providers). Spans follow the HTTP client
// semantic conventions; no credential, token or record body is ever put in a span, an event, an
// attribute or a metric (URLs carry none: the base URL may not hold credentials).
import {
  type Attributes,
  type Context,
  type Counter,
  context,
  createNoopMeter,
  type Histogram,
  INVALID_SPAN_CONTEXT,
  type Meter,
  type MeterProvider,
  metrics,
  propagation,
  type Span,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  type TracerProvider,
  trace,
} from "@opentelemetry/api";

export interface TelemetryOptions {
  /** Default: the global one (`trace.setGlobalTracerProvider`, e.g. by `@opentelemetry/sdk-node`). */
  tracerProvider?: TracerProvider;
  /** Default: the global one. */
  meterProvider?: MeterProvider;
  /** `false` switches spans and metrics off. Default true (a no-op until an SDK is registered). */
  telemetry?: boolean;
  /** Send W3C `traceparent` to VBA (which does not document it). Default false. */
  propagateTraceContext?: boolean;
}

interface Instruments {
  duration: Histogram;
  records: Counter;
  rateLimited: Counter;
  logins: Counter;
}

const SCOPE = "@vbapi-sdk/client";
/** The API's no-op meter (no SDK registered): its instruments are skipped, not fed. */
const NoopMeter = createNoopMeter().constructor;

function instrumentsOf(meter: Meter): Instruments {
  return {
    duration: meter.createHistogram("http.client.request.duration", {
      unit: "s",
      description: "Duration of HTTP client requests (one per attempt)",
      advice: {
        explicitBucketBoundaries: [
          0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10,
        ],
      },
    }),
    records: meter.createCounter("vbapi.records", {
      unit: "{record}",
      description: "Records by final outcome (created, updated, failed, not_attempted)",
    }),
    rateLimited: meter.createCounter("vbapi.rate_limited", {
      unit: "{response}",
      description: "Answers 429 from VBA",
    }),
    logins: meter.createCounter("vbapi.logins", {
      unit: "{login}",
      description: "Logins (POST /user-authentication) by outcome",
    }),
  };
}

/** One client's (or one login's) way to OpenTelemetry. */
export class Telemetry {
  readonly propagate: boolean;
  private tracerSource: TracerProvider | undefined;
  private tracerCache: Tracer | undefined;
  private meterSource: MeterProvider | undefined;
  private instrumentsCache: Instruments | undefined;

  constructor(
    private readonly options: TelemetryOptions,
    private readonly version: string,
  ) {
    this.propagate = options.propagateTraceContext === true;
  }

  /**
   * The tracer; the global tracer provider is looked up again when it changes. The built client
   * carries its own copy of the API (tools: vbapi-build --inline), and an SDK registered later
   * through the application's copy replaces the global, not this copy's proxy.
   */
  private get tracer(): Tracer | undefined {
    const provider = this.options.tracerProvider ?? trace.getTracerProvider();
    if (provider !== this.tracerSource) {
      this.tracerSource = provider;
      try {
        this.tracerCache = provider.getTracer(SCOPE, this.version);
      } catch {
        this.tracerCache = undefined; // a provider that throws gives no spans (see start)
      }
    }
    return this.tracerCache;
  }

  /** The meter's instruments; the global meter provider is looked up again when it changes. */
  private get instruments(): Instruments | undefined {
    const provider = this.options.meterProvider ?? metrics.getMeterProvider();
    if (provider !== this.meterSource) {
      const meter: Meter = provider.getMeter(SCOPE, this.version);
      this.meterSource = provider;
      this.instrumentsCache = meter instanceof NoopMeter ? undefined : instrumentsOf(meter);
    }
    return this.instrumentsCache;
  }

  /** A span that is a child of `parent` (default: the active context). */
  start(name: string, kind: SpanKind, attributes: Attributes, parent?: Context): Span {
    // A span starts between attempts too (a provider registered meanwhile is looked up then): a
    // provider or tracer that throws costs its spans, never the call or its records' outcomes.
    try {
      const tracer = this.tracer;
      if (tracer) return tracer.startSpan(name, { kind, attributes }, parent ?? context.active());
    } catch {}
    return trace.wrapSpanContext(INVALID_SPAN_CONTEXT);
  }

  /** One HTTP attempt: a client span named `{method} {url.template}`. */
  startAttempt(request: AttemptInfo, resendCount: number, parent?: Context): Span {
    const span = this.start(`${request.method} ${request.template}`, SpanKind.CLIENT, {}, parent);
    if (span.isRecording()) {
      span.setAttributes({
        "http.request.method": request.method,
        "url.full": request.url,
        "url.template": request.template,
        "server.address": request.host,
        "server.port": request.port,
        ...request.attributes,
        ...(resendCount > 0 && { "http.request.resend_count": resendCount }),
      });
    }
    return span;
  }

  /** Ends an attempt: its status (or error type), and the duration metric. */
  endAttempt(
    span: Span,
    request: AttemptInfo,
    startedAt: number,
    status: number | undefined,
    errorType: string | undefined,
    extra?: Attributes,
  ): void {
    const error = errorType ?? (status !== undefined && status >= 400 ? String(status) : undefined);
    const instruments = this.instruments;
    if (instruments) {
      const attributes: Attributes = {
        "http.request.method": request.method,
        "url.template": request.template,
        "server.address": request.host,
        "server.port": request.port,
      };
      if (status !== undefined) attributes["http.response.status_code"] = status;
      if (error !== undefined) attributes["error.type"] = error;
      instruments.duration.record((performance.now() - startedAt) / 1000, attributes);
      if (status === 429) instruments.rateLimited.add(1, { "url.template": request.template });
    }
    if (span.isRecording()) {
      if (status !== undefined) span.setAttribute("http.response.status_code", status);
      if (extra) span.setAttributes(extra);
      if (error !== undefined) {
        span.setAttribute("error.type", error);
        span.setStatus({ code: SpanStatusCode.ERROR, message: error });
      }
    }
    span.end();
  }

  /** Counts records by final outcome. */
  countRecords(entity: string, outcome: string, n: number): void {
    if (n > 0)
      this.instruments?.records.add(n, { "vbapi.entity": entity, "vbapi.outcome": outcome });
  }

  countLogin(outcome: "succeeded" | "failed"): void {
    this.instruments?.logins.add(1, { "vbapi.outcome": outcome });
  }

  /** Adds `traceparent` (and `tracestate`) for `span` to `headers`, when asked to. */
  inject(span: Span, parent: Context | undefined, headers: Record<string, string>): void {
    if (!this.propagate) return;
    propagation.inject(trace.setSpan(parent ?? context.active(), span), headers);
  }
}

/** What an attempt span needs to know of its request. */
export interface AttemptInfo {
  method: string;
  /** The full URL (it never holds credentials: the client refuses a base URL with any). */
  url: string;
  port: number;
  /** The spec's path template, e.g. `/tolerances-batch`. */
  template: string;
  host: string;
  /** vbapi.* attributes of the request (entity, records, database). */
  attributes?: Attributes;
}

/** The telemetry options, checked (`fail` throws a ConfigurationError naming the option). */
export function checkTelemetry(
  options: TelemetryOptions,
  fail: (message: string) => never,
): TelemetryOptions {
  const { tracerProvider, meterProvider, telemetry, propagateTraceContext } = options;
  if (tracerProvider !== undefined && typeof tracerProvider?.getTracer !== "function") {
    fail("tracerProvider must have a getTracer() method");
  }
  if (meterProvider !== undefined && typeof meterProvider?.getMeter !== "function") {
    fail("meterProvider must have a getMeter() method");
  }
  if (telemetry !== undefined && typeof telemetry !== "boolean")
    fail("telemetry must be a boolean");
  if (propagateTraceContext !== undefined && typeof propagateTraceContext !== "boolean") {
    fail("propagateTraceContext must be a boolean");
  }
  return {
    ...(tracerProvider && { tracerProvider }),
    ...(meterProvider && { meterProvider }),
    ...(telemetry !== undefined && { telemetry }),
    ...(propagateTraceContext !== undefined && { propagateTraceContext }),
  };
}

/** The telemetry of a client, or undefined when switched off. */
export function createTelemetry(options: TelemetryOptions, version: string): Telemetry | undefined {
  return options.telemetry === false ? undefined : new Telemetry(options, version);
}

/** An error's type for `error.type`: its class name. */
export function errorType(error: unknown): string {
  return error instanceof Error ? error.name : "unknown";
}

export type { Context, Span };
export { context, SpanKind, SpanStatusCode, trace };
