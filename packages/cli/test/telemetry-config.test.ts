// The telemetry settings read from the standard OpenTelemetry variables: when telemetry is on,
// where each signal goes, its headers, protocol and timeout, the resource; bad values cost a
// warning naming the variable, never its value.
import { describe, expect, it } from "vitest";
import { logFormatOf } from "../src/log-format.ts";
import {
  DEFAULT_EXPORT_TIMEOUT_MS,
  parsePairs,
  telemetryConfig,
  telemetryWanted,
} from "../src/telemetry/config.ts";
import { CLI_VERSION } from "../src/version.ts";

const ENDPOINT = { OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318" };

describe("when telemetry is on", () => {
  it("is off without an endpoint, with empty ones, and with OTEL_SDK_DISABLED=true", () => {
    expect(telemetryConfig({})).toBeUndefined();
    expect(telemetryConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: "  " })).toBeUndefined();
    // Other OTEL_ variables alone turn nothing on.
    expect(
      telemetryConfig({ OTEL_SERVICE_NAME: "x", OTEL_EXPORTER_OTLP_HEADERS: "a=b" }),
    ).toBeUndefined();
    for (const value of ["true", "TRUE", " True "]) {
      expect(telemetryWanted({ ...ENDPOINT, OTEL_SDK_DISABLED: value })).toBe(false);
    }
    expect(telemetryWanted({ ...ENDPOINT, OTEL_SDK_DISABLED: "false" })).toBe(true);
    expect(telemetryWanted({ OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: "http://m:1/x" })).toBe(true);
  });

  it("OTEL_SDK_DISABLED neither true nor false: on, with a warning", () => {
    const config = telemetryConfig({ ...ENDPOINT, OTEL_SDK_DISABLED: "yes-SECRET" });
    expect(config?.traces).toBeDefined();
    expect(config?.warnings).toEqual([
      "OTEL_SDK_DISABLED is neither true nor false: telemetry stays on",
    ]);
  });
});

describe("endpoints", () => {
  it("the general endpoint gets /v1/traces and /v1/metrics after its path; a signal's own is used as is", () => {
    const config = telemetryConfig({
      OTEL_EXPORTER_OTLP_ENDPOINT: "https://user:pw@collector.example:4318/otlp/?tenant=a",
    });
    expect(config?.traces?.url).toBe(
      "https://user:pw@collector.example:4318/otlp/v1/traces?tenant=a",
    );
    expect(config?.metrics?.url).toBe(
      "https://user:pw@collector.example:4318/otlp/v1/metrics?tenant=a",
    );
    // Messages show the origin only: no credentials, no path, no query.
    expect(config?.traces?.origin).toBe("https://collector.example:4318");
    const own = telemetryConfig({
      ...ENDPOINT,
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "http://traces:9999/custom/path",
    });
    expect(own?.traces?.url).toBe("http://traces:9999/custom/path");
    expect(own?.metrics?.url).toBe("http://collector:4318/v1/metrics");
  });

  it("only the signals with an endpoint are exported", () => {
    const config = telemetryConfig({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "http://t:1/v1/traces" });
    expect(config?.traces?.url).toBe("http://t:1/v1/traces");
    expect(config?.metrics).toBeUndefined();
    expect(config?.warnings).toEqual([]);
  });

  it("a URL that does not parse, or is not http(s): that signal is off, one warning naming the variable", () => {
    for (const bad of ["not a url SECRET-1", "ftp://SECRET-2@host/x", "collector:4318"]) {
      const config = telemetryConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: bad });
      expect(config?.traces).toBeUndefined();
      expect(config?.metrics).toBeUndefined();
      expect(config?.warnings).toEqual([
        "OTEL_EXPORTER_OTLP_ENDPOINT is not an http(s) URL: traces are not exported",
        "OTEL_EXPORTER_OTLP_ENDPOINT is not an http(s) URL: metrics are not exported",
      ]);
      expect(config?.warnings.join("\n")).not.toMatch(/SECRET|ftp|collector/);
    }
  });
});

describe("headers, protocol, timeouts", () => {
  it("headers: comma-separated key=value pairs, percent-decoded; a signal's own are added over the general ones", () => {
    const config = telemetryConfig({
      ...ENDPOINT,
      OTEL_EXPORTER_OTLP_HEADERS: "api-key=abc%3D%3D, x-team = data%20ops ,,",
      OTEL_EXPORTER_OTLP_METRICS_HEADERS: "api-key=metrics-only",
    });
    expect(config?.traces?.headers).toEqual({ "api-key": "abc==", "x-team": "data ops" });
    expect(config?.metrics?.headers).toEqual({ "api-key": "metrics-only", "x-team": "data ops" });
    expect(config?.warnings).toEqual([]);
  });

  it("malformed header entries are ignored with one warning naming the variable and the entries, never a value", () => {
    const config = telemetryConfig({
      ...ENDPOINT,
      // 2: no "=", 3: a name with a space, 4: bad percent-encoding, 5: a new line in the value, 6: empty value
      OTEL_EXPORTER_OTLP_HEADERS: "good=1,SECRET-A,bad name=SECRET-B,k=%E0%A4%A,k2=a%0Ab,k3=",
    });
    expect(config?.traces?.headers).toEqual({ good: "1" });
    expect(config?.warnings).toEqual([
      "OTEL_EXPORTER_OTLP_HEADERS: entries 2, 3, 4, 5 and 6 are not a key=value pair a header can carry (comma-separated, URL-encoded): ignored",
    ]);
  });

  it("protocol: http/protobuf by default, http/json, a signal's own first; anything else warns and uses http/protobuf", () => {
    expect(telemetryConfig(ENDPOINT)?.traces?.protocol).toBe("http/protobuf");
    const json = telemetryConfig({
      ...ENDPOINT,
      OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
      OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: "http/protobuf",
    });
    expect([json?.traces?.protocol, json?.metrics?.protocol]).toEqual([
      "http/json",
      "http/protobuf",
    ]);
    const grpc = telemetryConfig({ ...ENDPOINT, OTEL_EXPORTER_OTLP_PROTOCOL: "grpc" });
    expect(grpc?.traces?.protocol).toBe("http/protobuf");
    expect(grpc?.warnings).toEqual([
      "OTEL_EXPORTER_OTLP_PROTOCOL: vbapi exports over http/protobuf or http/json only (no gRPC): using http/protobuf",
    ]);
  });

  it("timeouts: 3 s by default, OTEL_EXPORTER_OTLP_TIMEOUT and a signal's own; a bad one warns", () => {
    expect(telemetryConfig(ENDPOINT)?.traces?.timeoutMs).toBe(DEFAULT_EXPORT_TIMEOUT_MS);
    const set = telemetryConfig({
      ...ENDPOINT,
      OTEL_EXPORTER_OTLP_TIMEOUT: "1500",
      OTEL_EXPORTER_OTLP_METRICS_TIMEOUT: "700",
    });
    expect([set?.traces?.timeoutMs, set?.metrics?.timeoutMs]).toEqual([1500, 700]);
    const bad = telemetryConfig({ ...ENDPOINT, OTEL_EXPORTER_OTLP_TIMEOUT: "-5" });
    expect(bad?.traces?.timeoutMs).toBe(DEFAULT_EXPORT_TIMEOUT_MS);
    expect(bad?.warnings).toEqual([
      `OTEL_EXPORTER_OTLP_TIMEOUT is not a number of milliseconds: using ${DEFAULT_EXPORT_TIMEOUT_MS}`,
    ]);
  });
});

describe("the resource", () => {
  it("service.name vbapi and the CLI's version by default; OTEL_RESOURCE_ATTRIBUTES, then OTEL_SERVICE_NAME over it", () => {
    expect(telemetryConfig(ENDPOINT)?.resource).toEqual({
      "service.name": "vbapi",
      "service.version": CLI_VERSION,
    });
    const attrs = { OTEL_RESOURCE_ATTRIBUTES: "service.name=from-attrs,team=data%20ops" };
    expect(telemetryConfig({ ...ENDPOINT, ...attrs })?.resource).toEqual({
      "service.name": "from-attrs",
      "service.version": CLI_VERSION,
      team: "data ops",
    });
    expect(
      telemetryConfig({ ...ENDPOINT, ...attrs, OTEL_SERVICE_NAME: "nightly" })?.resource[
        "service.name"
      ],
    ).toBe("nightly");
  });

  it("a malformed entry is ignored with a warning", () => {
    const config = telemetryConfig({ ...ENDPOINT, OTEL_RESOURCE_ATTRIBUTES: "a=1,=SECRET" });
    expect(config?.resource.a).toBe("1");
    expect(config?.warnings).toEqual([
      "OTEL_RESOURCE_ATTRIBUTES: entry 2 is not a key=value pair (comma-separated, URL-encoded): ignored",
    ]);
  });
});

it("parsePairs reports the positions of bad entries", () => {
  expect(parsePairs("a=1,b,=c,d=%ZZ,e=2")).toEqual({
    pairs: [
      ["a", "1"],
      ["e", "2"],
    ],
    bad: [2, 3, 4],
  });
});

it("--log-format is read before commander, in both spellings, not after --", () => {
  expect(logFormatOf(["upsert", "x", "--log-format", "json"])).toBe("json");
  expect(logFormatOf(["--log-format=json", "upsert"])).toBe("json");
  expect(logFormatOf(["upsert", "--log-format", "xml"])).toBe("text");
  expect(logFormatOf(["upsert", "--", "--log-format", "json"])).toBe("text");
  expect(logFormatOf([])).toBe("text");
});
