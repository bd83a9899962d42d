// The run's telemetry settings, from the standard OpenTelemetry environment variables. Telemetry
// is on only when an OTLP endpoint is set (OTEL_EXPORTER_OTLP_ENDPOINT, or a signal's own
// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT / _METRICS_ENDPOINT) and OTEL_SDK_DISABLED is not true.
// A bad variable costs a one-line warning that names it, never its value (headers hold the API
// keys of observability vendors, URLs may hold credentials), and never stops the run.

import { io } from "../io.ts";
import { CLI_VERSION } from "../version.ts";

export type OtlpProtocol = "http/protobuf" | "http/json";
export type Signal = "traces" | "metrics";

export interface SignalConfig {
  /** Where the exports are POSTed. May hold credentials: never shown, see `origin`. */
  url: string;
  /** `scheme://host:port` of `url`, for messages. */
  origin: string;
  headers: Record<string, string>;
  protocol: OtlpProtocol;
  /** One export's time, retries included (OTEL_EXPORTER_OTLP_TIMEOUT; default 3 s). */
  timeoutMs: number;
}

export interface TelemetryConfig {
  /** undefined: the signal is not exported. */
  traces: SignalConfig | undefined;
  metrics: SignalConfig | undefined;
  /** The resource: service.name, service.version, OTEL_RESOURCE_ATTRIBUTES. */
  resource: Record<string, string>;
  /** How often metrics are exported during a run (they are also exported at its end). */
  metricIntervalMs: number;
  /** One line per bad variable. */
  warnings: string[];
}

type Env = Record<string, string | undefined>;

export const DEFAULT_SERVICE_NAME = "vbapi";
const DEFAULT_METRIC_INTERVAL_MS = 60_000;
/**
 * Shorter than the spec's 10 s: the exporters retry a refused connection until this runs out,
 * so a collector that is down is reported (with its reason) within the final flush's budget.
 */
export const DEFAULT_EXPORT_TIMEOUT_MS = 3000;

/** A variable's value; empty or blank counts as unset (as the OpenTelemetry spec says). */
function read(env: Env, name: string): string | undefined {
  const v = env[name]?.trim();
  return v === undefined || v === "" ? undefined : v;
}

/**
 * `key=value` pairs separated by commas, each side percent-decoded: the format of
 * OTEL_EXPORTER_OTLP_HEADERS and OTEL_RESOURCE_ATTRIBUTES. `bad` holds the 1-based positions of
 * the entries that are not such a pair (or whose `accept` refused them).
 */
export function parsePairs(
  text: string,
  accept: (key: string, value: string) => boolean = () => true,
): { pairs: [string, string][]; bad: number[] } {
  const pairs: [string, string][] = [];
  const bad: number[] = [];
  text.split(",").forEach((entry, i) => {
    if (entry.trim() === "") return;
    const at = entry.indexOf("=");
    let key = "";
    let value = "";
    try {
      key = decodeURIComponent(entry.slice(0, Math.max(at, 0)).trim());
      value = decodeURIComponent(entry.slice(at + 1).trim());
    } catch {
      key = "";
    }
    if (at <= 0 || key === "" || value === "" || !accept(key, value)) bad.push(i + 1);
    else pairs.push([key, value]);
  });
  return { pairs, bad };
}

/** What an HTTP header can carry: a token for its name; no CR, LF, NUL or wide characters. */
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const HEADER_VALUE = /^[\t\u0020-\u007e\u0080-\u00ff]*$/;
const isHeader = (name: string, value: string) =>
  HEADER_NAME.test(name) && HEADER_VALUE.test(value);

function entries(bad: number[]): string {
  return bad.length === 1
    ? `entry ${bad[0]} is`
    : `entries ${bad.slice(0, -1).join(", ")} and ${bad.at(-1)} are`;
}

/** The pairs of `name`, with a warning (naming the variable and the entries) for bad ones. */
function pairsOf(
  env: Env,
  name: string,
  warnings: Set<string>,
  accept?: (key: string, value: string) => boolean,
): [string, string][] {
  const text = read(env, name);
  if (text === undefined) return [];
  const { pairs, bad } = parsePairs(text, accept);
  if (bad.length > 0) {
    warnings.add(
      `${name}: ${entries(bad)} not a key=value pair${accept ? " a header can carry" : ""} (comma-separated, URL-encoded): ignored`,
    );
  }
  return pairs;
}

const SIGNAL_VAR: Record<Signal, string> = { traces: "TRACES", metrics: "METRICS" };

/** The signal's URL: its own variable as it is, else the general one + `v1/<signal>`. */
function endpointOf(env: Env, signal: Signal, warnings: Set<string>): URL | undefined {
  const own = `OTEL_EXPORTER_OTLP_${SIGNAL_VAR[signal]}_ENDPOINT`;
  const general = "OTEL_EXPORTER_OTLP_ENDPOINT";
  const name = read(env, own) !== undefined ? own : general;
  const text = read(env, name);
  if (text === undefined) return undefined;
  let url: URL | undefined;
  try {
    url = new URL(text);
  } catch {}
  if (url === undefined || (url.protocol !== "http:" && url.protocol !== "https:")) {
    warnings.add(`${name} is not an http(s) URL: ${signal} are not exported`);
    return undefined;
  }
  if (name === general) url.pathname = `${url.pathname.replace(/\/$/, "")}/v1/${signal}`;
  return url;
}

function protocolOf(env: Env, signal: Signal, warnings: Set<string>): OtlpProtocol {
  for (const name of [
    `OTEL_EXPORTER_OTLP_${SIGNAL_VAR[signal]}_PROTOCOL`,
    "OTEL_EXPORTER_OTLP_PROTOCOL",
  ]) {
    const value = read(env, name);
    if (value === undefined) continue;
    if (value === "http/protobuf" || value === "http/json") return value;
    warnings.add(
      `${name}: vbapi exports over http/protobuf or http/json only (no gRPC): using http/protobuf`,
    );
    return "http/protobuf";
  }
  return "http/protobuf";
}

/** A positive whole number of milliseconds, or the default (with a warning when malformed). */
function millisOf(env: Env, names: string[], fallback: number, warnings: Set<string>): number {
  for (const name of names) {
    const value = read(env, name);
    if (value === undefined) continue;
    if (/^\d+$/.test(value) && Number(value) > 0) return Number(value);
    warnings.add(`${name} is not a number of milliseconds: using ${fallback}`);
    return fallback;
  }
  return fallback;
}

function signalOf(env: Env, signal: Signal, warnings: Set<string>): SignalConfig | undefined {
  const url = endpointOf(env, signal, warnings);
  if (url === undefined) return undefined;
  const headers = Object.fromEntries([
    ...pairsOf(env, "OTEL_EXPORTER_OTLP_HEADERS", warnings, isHeader),
    ...pairsOf(env, `OTEL_EXPORTER_OTLP_${SIGNAL_VAR[signal]}_HEADERS`, warnings, isHeader),
  ]);
  return {
    url: url.href,
    origin: `${url.protocol}//${url.host}`,
    headers,
    protocol: protocolOf(env, signal, warnings),
    timeoutMs: millisOf(
      env,
      [`OTEL_EXPORTER_OTLP_${SIGNAL_VAR[signal]}_TIMEOUT`, "OTEL_EXPORTER_OTLP_TIMEOUT"],
      DEFAULT_EXPORT_TIMEOUT_MS,
      warnings,
    ),
  };
}

const ENDPOINT_VARS = [
  "OTEL_EXPORTER_OTLP_ENDPOINT",
  "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
  "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
];

/** Whether an OTLP endpoint is set (before checking it) and telemetry is not disabled. */
export function telemetryWanted(env: Env = io().env): boolean {
  if (read(env, "OTEL_SDK_DISABLED")?.toLowerCase() === "true") return false;
  return ENDPOINT_VARS.some((name) => read(env, name) !== undefined);
}

/** The settings, or undefined when telemetry is off (no endpoint, or OTEL_SDK_DISABLED=true). */
export function telemetryConfig(env: Env = io().env): TelemetryConfig | undefined {
  if (!telemetryWanted(env)) return undefined;
  const warnings = new Set<string>();
  const disabled = read(env, "OTEL_SDK_DISABLED")?.toLowerCase();
  if (disabled !== undefined && disabled !== "false") {
    warnings.add("OTEL_SDK_DISABLED is neither true nor false: telemetry stays on");
  }
  const resource: Record<string, string> = {
    "service.name": DEFAULT_SERVICE_NAME,
    "service.version": CLI_VERSION,
    ...Object.fromEntries(pairsOf(env, "OTEL_RESOURCE_ATTRIBUTES", warnings)),
  };
  const serviceName = read(env, "OTEL_SERVICE_NAME");
  if (serviceName !== undefined) resource["service.name"] = serviceName;
  const metricIntervalMs = millisOf(
    env,
    ["OTEL_METRIC_EXPORT_INTERVAL"],
    DEFAULT_METRIC_INTERVAL_MS,
    warnings,
  );
  return {
    traces: signalOf(env, "traces", warnings),
    metrics: signalOf(env, "metrics", warnings),
    resource,
    metricIntervalMs,
    warnings: [...warnings],
  };
}
