// The telemetry of a CLI run (`upsert`, `resume`). Off unless an OTLP endpoint is set: then
// nothing but config.ts runs (the OpenTelemetry SDK, in sdk.ts, is imported only when an
// endpoint is set, so a run without telemetry starts as fast as before).
//
// With an endpoint: one trace per run under a root span (`vbapi upsert tolerances`,
// `vbapi resume`), the SDK client's spans and metrics beneath it through the providers passed
// to it (`telemetryOptions`), and its trace id in summary.json, the `done` event and the JSON log
// lines. `endTelemetry` (program.ts, before every exit) exports what is left within
// FLUSH_BUDGET_MS; a delivery that failed, at any time during the run, costs exactly one warning.
//
// This module imports only types from OpenTelemetry: the API (30 ms of CPU to load, 47 files) is
// loaded with the SDK, so a run without telemetry loads none of it (test/lazy-load.test.ts).
import type { Attributes, Span, TracerProvider } from "@opentelemetry/api";
import type { MeterProvider } from "@opentelemetry/sdk-metrics";
import { EXIT } from "../exit.ts";
import { log, setLogContext } from "../log-format.ts";
import { findEntity } from "../schema.ts";
import { CLI_VERSION } from "../version.ts";
import { type TelemetryConfig, telemetryConfig } from "./config.ts";
import type { Sdk } from "./sdk.ts";

type Api = typeof import("./sdk.ts")["api"];

/**
 * How long the final export may take. With the SDK's start-up (a few hundred ms at most),
 * telemetry never adds more than 5 s to a run, whatever the collector does.
 */
export const FLUSH_BUDGET_MS = 4000;

interface ActiveRun {
  sdk: Sdk;
  api: Api;
  config: TelemetryConfig;
  root: Span | undefined;
  /** The final flush, once started. */
  ending?: Promise<void>;
  /** Stops waiting for the final flush (a signal during it). */
  stopFlush?: () => void;
}

let active: ActiveRun | undefined;

/** The client's and the login's telemetry options: this run's providers, or telemetry off. */
export function telemetryOptions(): {
  tracerProvider?: TracerProvider;
  meterProvider?: MeterProvider;
  telemetry?: false;
} {
  if (active === undefined) return { telemetry: false };
  const { tracerProvider, meterProvider } = active.sdk;
  return {
    ...(tracerProvider && { tracerProvider }),
    ...(meterProvider && { meterProvider }),
  };
}

/** The run's trace id, when its traces are exported. */
export function runTraceId(): string | undefined {
  return active?.root?.spanContext().traceId;
}

/** Adds attributes to the run's root span (when traced). */
export function tagRun(attributes: Attributes): void {
  if (active?.root?.isRecording()) active.root.setAttributes(attributes);
}

function endRoot(code: number, error?: unknown): void {
  const root = active?.root;
  if (active === undefined || root === undefined || !root.isRecording()) return;
  const { SpanStatusCode } = active.api;
  root.setAttribute("process.exit.code", code);
  if (error !== undefined) {
    // The error's type only: its message may name columns or paths of the input.
    root.setAttribute("error.type", error instanceof Error ? error.name : "unknown");
  }
  if (code >= EXIT.usage) root.setStatus({ code: SpanStatusCode.ERROR, message: `exit ${code}` });
  root.end();
}

/**
 * Ctrl-C and SIGTERM while telemetry runs. During the session its own handler stops the run,
 * which ends through `main` as usual (exit 130, flushed). Before or after the session nothing
 * else listens: the trace is ended and exported, then the process exits 130. During the final
 * flush, a signal stops waiting for it.
 */
function onSignal(signal: NodeJS.Signals): void {
  const run = active;
  if (run === undefined) return;
  if (run.ending !== undefined) {
    run.stopFlush?.();
    return;
  }
  if (process.listenerCount(signal) > 1) return;
  endRoot(EXIT.interrupted);
  void endTelemetry()
    .catch(() => {})
    .finally(() => process.exit(EXIT.interrupted));
}

async function startTelemetry(
  config: TelemetryConfig,
): Promise<{ sdk: Sdk; api: Api } | undefined> {
  try {
    const { startSdk, api } = await import("./sdk.ts");
    return { sdk: startSdk(config), api };
  } catch (error) {
    log(
      "warn",
      `telemetry could not start (${error instanceof Error ? error.name : "error"}): the run goes on without it`,
    );
    return undefined;
  }
}

/**
 * Runs a command (`run` resolves with its exit code) as one traced run when an OTLP endpoint is
 * set, else just runs it. `entityName`: as the user typed it.
 */
export async function traced(
  command: "upsert" | "resume",
  entityName: string | undefined,
  run: () => Promise<number>,
): Promise<number> {
  const config = telemetryConfig();
  if (config === undefined) return run();
  for (const warning of config.warnings) log("warn", warning);
  const started = config.traces || config.metrics ? await startTelemetry(config) : undefined;
  if (started === undefined) return run();
  const { sdk, api } = started;
  const { context, ROOT_CONTEXT, SpanKind, trace } = api;
  const entity = entityName === undefined ? undefined : findEntity(entityName);
  const root = sdk.tracerProvider?.getTracer("@vbapi-sdk/cli", CLI_VERSION).startSpan(
    entity ? `vbapi ${command} ${entity.name}` : `vbapi ${command}`,
    {
      kind: SpanKind.INTERNAL,
      attributes: { "vbapi.command": command, ...(entity && { "vbapi.entity": entity.entity }) },
    },
    ROOT_CONTEXT,
  );
  active = { sdk, api, config, root };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  if (root) setLogContext({ traceId: root.spanContext().traceId });
  log("info", `telemetry: exporting ${exportedTo(config)}`, { text: false });
  try {
    const code = await context.with(root ? trace.setSpan(ROOT_CONTEXT, root) : ROOT_CONTEXT, run);
    endRoot(code);
    return code;
  } catch (error) {
    endRoot(EXIT.usage, error);
    throw error;
  }
}

/** What goes where, for the JSON log: `traces and metrics to http://host:4318 (http/protobuf)`. */
function exportedTo(config: TelemetryConfig): string {
  const { traces, metrics } = config;
  const to = (s: NonNullable<typeof traces>) => `to ${s.origin} (${s.protocol})`;
  if (traces && metrics && to(traces) === to(metrics)) return `traces and metrics ${to(traces)}`;
  return [traces && `traces ${to(traces)}`, metrics && `metrics ${to(metrics)}`]
    .filter(Boolean)
    .join(", ");
}

function whereTo(config: TelemetryConfig): string {
  const origins = new Set([config.traces?.origin, config.metrics?.origin]);
  origins.delete(undefined);
  return [...origins].join(" and ");
}

const REASON_TEXT: Record<string, string> = {
  timeout: "the collector did not answer in time",
  interrupted: "interrupted",
};

/**
 * Exports what is left and shuts telemetry down, within FLUSH_BUDGET_MS; one warning when
 * anything was not delivered (the collector's address only: no path, no credentials). Call it
 * before every exit; nothing happens when telemetry did not run.
 */
export function endTelemetry(): Promise<void> {
  const run = active;
  if (run === undefined) return Promise.resolve();
  run.ending ??= (async () => {
    endRoot(EXIT.interrupted); // a root span still open here was cut short
    const stop = new Promise<void>((resolve) => {
      run.stopFlush = resolve;
    });
    const delivery = await run.sdk.shutdown(FLUSH_BUDGET_MS, stop);
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    active = undefined;
    if (!delivery.delivered) {
      const reason = delivery.reason ?? "failed";
      const { traces, metrics } = run.config;
      const what = traces && metrics ? "traces and metrics" : traces ? "traces" : "metrics";
      log(
        "warn",
        `telemetry: not all ${what} were delivered to ${whereTo(run.config)} (${REASON_TEXT[reason] ?? reason}); the run itself is not affected`,
      );
    }
  })();
  return run.ending;
}
