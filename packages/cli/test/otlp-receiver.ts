// An OTLP/HTTP receiver for the tests: a node:http server on a free loopback port that records
// every request (path, headers, body) and answers 200 with an empty export response, as a
// collector does. The first path segment names the run (`/<tag>/v1/traces`), so concurrent runs
// share one receiver; a tag starting `hang` accepts the request and never answers (a collector
// that is stuck).
import { createServer, type IncomingHttpHeaders, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { gunzipSync } from "node:zlib";

export interface Received {
  tag: string;
  /** `traces` or `metrics` (the path after the tag, `v1/` dropped). */
  signal: string;
  contentType: string;
  headers: IncomingHttpHeaders;
  /** The body, gunzipped when it came compressed. */
  body: Buffer;
}

export interface Receiver {
  /** `http://127.0.0.1:<port>`. */
  url: string;
  /** What arrived for `tag`. */
  received(tag: string): Received[];
  /** Resolves once a request for `tag` arrived (the body read). */
  arrival(tag: string): Promise<void>;
  close(): Promise<void>;
}

export async function startReceiver(): Promise<Receiver> {
  const all: Received[] = [];
  const waiting = new Map<string, (() => void)[]>();
  const hanging: ServerResponse[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const [, tag = "", ...rest] = (req.url ?? "").split("?")[0]?.split("/") ?? [];
      const raw = Buffer.concat(chunks);
      const contentType = String(req.headers["content-type"] ?? "");
      all.push({
        tag,
        signal: rest.filter((s) => s !== "v1").join("/"),
        contentType,
        headers: req.headers,
        body: req.headers["content-encoding"] === "gzip" ? gunzipSync(raw) : raw,
      });
      for (const wake of waiting.get(tag)?.splice(0) ?? []) wake();
      if (tag.startsWith("hang")) {
        hanging.push(res);
        return;
      }
      const json = contentType.includes("json");
      res.writeHead(200, { "content-type": json ? "application/json" : "application/x-protobuf" });
      res.end(json ? "{}" : "");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received: (tag) => all.filter((r) => r.tag === tag),
    arrival: (tag) =>
      all.some((r) => r.tag === tag)
        ? Promise.resolve()
        : new Promise((resolve) => waiting.set(tag, [...(waiting.get(tag) ?? []), resolve])),
    close: async () => {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** A span of an OTLP/JSON export, its attributes as a plain object. */
export interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  kind: number;
  status: { code?: number; message?: string };
  attributes: Record<string, unknown>;
  resource: Record<string, unknown>;
}

interface AnyValue {
  stringValue?: string;
  intValue?: number | string;
  doubleValue?: number;
  boolValue?: boolean;
}
type KeyValues = { key: string; value: AnyValue }[] | undefined;

function plain(v: AnyValue): unknown {
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.intValue !== undefined) return Number(v.intValue);
  return v.doubleValue ?? v.boolValue;
}

export const attributesOf = (list: KeyValues): Record<string, unknown> =>
  Object.fromEntries((list ?? []).map(({ key, value }) => [key, plain(value)]));

/** Every span in the trace exports of `received` (OTLP/JSON). */
export function spansOf(received: Received[]): OtlpSpan[] {
  return received
    .filter((r) => r.signal === "traces")
    .flatMap((r) => {
      const body = JSON.parse(r.body.toString("utf8")) as {
        resourceSpans: {
          resource: { attributes: KeyValues };
          scopeSpans: {
            spans: (Omit<OtlpSpan, "attributes" | "resource"> & { attributes: KeyValues })[];
          }[];
        }[];
      };
      return body.resourceSpans.flatMap((rs) =>
        rs.scopeSpans.flatMap((ss) =>
          ss.spans.map((s) => ({
            ...s,
            parentSpanId: s.parentSpanId ?? "",
            attributes: attributesOf(s.attributes),
            resource: attributesOf(rs.resource.attributes),
          })),
        ),
      );
    });
}

/** The data points of metric `name` in the LAST metrics export (cumulative: the run's totals). */
export function metricPoints(
  received: Received[],
  name: string,
): { attributes: Record<string, unknown>; value: number; count?: number }[] {
  const last = received.filter((r) => r.signal === "metrics").at(-1);
  if (last === undefined) return [];
  type Point = {
    attributes: KeyValues;
    asInt?: number | string;
    asDouble?: number;
    count?: number | string;
  };
  const body = JSON.parse(last.body.toString("utf8")) as {
    resourceMetrics: {
      scopeMetrics: {
        metrics: {
          name: string;
          sum?: { dataPoints: Point[] };
          histogram?: { dataPoints: Point[] };
        }[];
      }[];
    }[];
  };
  const metric = body.resourceMetrics
    .flatMap((rm) => rm.scopeMetrics.flatMap((sm) => sm.metrics))
    .find((m) => m.name === name);
  return (
    (metric?.sum ?? metric?.histogram)?.dataPoints.map((p) => ({
      attributes: attributesOf(p.attributes),
      value: Number(p.asInt ?? p.asDouble ?? 0),
      ...(p.count !== undefined && { count: Number(p.count) }),
    })) ?? []
  );
}
