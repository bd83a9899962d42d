// Test helpers: a scripted fetch that records every call (faults are injected here, never by
// mocking the client itself).
import { createVbapiClient, type VbapiClientOptions } from "../src/index.ts";

export interface Call {
  url: string;
  method: string;
  headers: Headers;
  body: string;
  signal: AbortSignal | undefined;
}

export type Handler = (call: Call, n: number) => Response | Promise<Response>;

export function scriptedFetch(...handlers: Handler[]) {
  const calls: Call[] = [];
  const fetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const call: Call = {
      url: String(input),
      method: init?.method ?? "GET",
      headers: new Headers(init?.headers),
      body: typeof init?.body === "string" ? init.body : "",
      signal: init?.signal ?? undefined,
    };
    calls.push(call);
    const handler = handlers[Math.min(calls.length - 1, handlers.length - 1)] as Handler;
    return handler(call, calls.length);
  }) as typeof globalThis.fetch;
  return { fetch, calls };
}

/** A 207 that reports every sent record as created (keys echoed in VBA's style). */
export function created(keyField: string): Handler {
  return (call) => {
    const records = JSON.parse(call.body) as Record<string, unknown>[];
    return json(
      207,
      {
        data: records.map((r) => ({
          id: [{ key: keyField, value: r[keyField] }],
          status: 201,
          body: "Created",
        })),
        error: null,
        debug: { activityID: "activity-207" },
      },
      "text/plain",
    );
  };
}

export function json(
  status: number,
  body: unknown,
  contentType = "application/json",
  headers: Record<string, string> = {},
) {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": contentType, ...headers },
  });
}

export function problem(status: number, detail: string, headers: Record<string, string> = {}) {
  return json(
    status,
    { type: "about:blank", title: `HTTP ${status}`, status, detail, instance: "/x" },
    "application/problem+json",
    headers,
  );
}

/** Never answers; rejects when the attempt's signal aborts (like a real fetch). */
export function hang(): Handler {
  return (call) =>
    new Promise<Response>((_, reject) => {
      call.signal?.addEventListener("abort", () => reject(call.signal?.reason), { once: true });
    });
}

export function connectionError(code: string): Handler {
  return () => {
    throw Object.assign(new TypeError("fetch failed"), {
      cause: Object.assign(new Error(code), { code }),
    });
  };
}

export const SECRET_KEY = "sk-live-SECRETAPIKEY-0123456789";
export const SECRET_TOKEN = "eyJhbGciOi.SECRET-TOKEN-PAYLOAD.sig";

export function testClient(fetch: typeof globalThis.fetch, options: VbapiClientOptions = {}) {
  return createVbapiClient({
    baseUrl: "http://vba.test/vbasoftware",
    apiKey: SECRET_KEY,
    token: SECRET_TOKEN,
    database: "testdb",
    fetch,
    backoff: { initialDelayMs: 1, maxDelayMs: 5, maxRetryAfterMs: 2000 },
    rateLimit: false,
    logLevel: "off",
    ...options,
  });
}

export const tolerance = (key: number, extra: Record<string, unknown> = {}) => ({
  tolerance_Key: key,
  tolerance1: 1.5,
  ...extra,
});

/** A loopback port nothing listens on: a refused connection (lib/test-bin). */
export { closedPort } from "@vbapi-sdk/tool-test-bin";

/** A client of the reference server `server` (its key and token, logging off), with `options`. */
export function serverClient(
  server: { url: string; credentials: { apiKey: string; token: string } },
  options: VbapiClientOptions = {},
) {
  return createVbapiClient({
    baseUrl: server.url,
    apiKey: server.credentials.apiKey,
    token: server.credentials.token,
    logLevel: "off",
    ...options,
  });
}
