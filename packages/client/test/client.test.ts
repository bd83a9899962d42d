import { afterEach, describe, expect, it, vi } from "vitest";
import {
  AbortError,
  ApiError,
  AuthenticationError,
  BadRequestError,
  ConfigurationError,
  ConnectionError,
  createVbapiClient,
  InternalServerError,
  PermissionDeniedError,
  RateLimitError,
  ResponseParseError,
  TimeoutError,
  ValidationError,
} from "../src/index.ts";
import {
  connectionError,
  created,
  hang,
  json,
  problem,
  SECRET_KEY,
  SECRET_TOKEN,
  scriptedFetch,
  testClient,
  tolerance,
} from "./helpers.ts";

afterEach(() => vi.unstubAllEnvs());

describe("requests", () => {
  it("sends the API key, bearer token, database, User-Agent and Accept on every call", async () => {
    const { fetch, calls } = scriptedFetch(created("tolerance_Key"));
    const client = testClient(fetch);
    const result = await client.upsertBatch("Tolerance", [tolerance(1), tolerance(2)]);
    expect(calls).toHaveLength(1);
    const call = calls[0];
    expect(call?.method).toBe("PUT");
    expect(call?.url).toBe("http://vba.test/vbasoftware/tolerances-batch");
    expect(call?.headers.get("x-api-key")).toBe(SECRET_KEY);
    expect(call?.headers.get("authorization")).toBe(`Bearer ${SECRET_TOKEN}`);
    expect(call?.headers.get("vbasoftware-database")).toBe("testdb");
    expect(call?.headers.get("user-agent")).toMatch(/^vbapi-sdk\/\d+\.\d+\.\d+ node\/\d+/);
    expect(call?.headers.get("accept")).toBe("application/json");
    expect(call?.headers.get("content-type")).toBe("application/json");
    expect(JSON.parse(call?.body ?? "")).toEqual([tolerance(1), tolerance(2)]);
    expect(result).toEqual({
      items: [
        {
          index: 0,
          key: { tolerance_Key: 1 },
          status: 201,
          outcome: "created",
          message: "Created",
        },
        {
          index: 1,
          key: { tolerance_Key: 2 },
          status: 201,
          outcome: "created",
          message: "Created",
        },
      ],
      succeeded: 2,
      failed: 0,
      activityId: "activity-207",
    });
  });

  it("puts the ProviderCredService path key into the URL", async () => {
    const { fetch, calls } = scriptedFetch(created("credService_Key"));
    const client = testClient(fetch);
    await client.upsertBatch(
      "ProviderCredService",
      [{ providerCred_Key: 5021, credService_Key: 3 }],
      {
        pathParams: { providerCredKey: 5021 },
      },
    );
    expect(calls[0]?.url).toBe(
      "http://vba.test/vbasoftware/provider-credentialing/5021/services-batch",
    );
  });

  it("returns an empty result for an empty batch without a request", async () => {
    const { fetch, calls } = scriptedFetch(created("tolerance_Key"));
    const result = await testClient(fetch).upsertBatch("Tolerance", []);
    expect(result).toEqual({ items: [], succeeded: 0, failed: 0, activityId: undefined });
    expect(calls).toHaveLength(0);
  });

  it("the raw client is made at first use, then is one plain property as it always was", () => {
    const client = testClient(scriptedFetch(created("event_ID")).fetch);
    const first = client.raw;
    expect(client.raw).toBe(first);
    expect(Object.getOwnPropertyDescriptor(client, "raw")).toMatchObject({
      value: first,
      writable: true,
      enumerable: true,
    });
    // Assignable at runtime (TypeScript says readonly), before its first use as after it.
    const other = testClient(scriptedFetch(created("event_ID")).fetch);
    (other as { raw: unknown }).raw = first;
    expect(other.raw).toBe(first);
    // A client frozen or sealed before its first use: the same raw client at every access.
    for (const lock of [Object.freeze, Object.seal]) {
      const locked = lock(testClient(scriptedFetch(created("event_ID")).fetch));
      const made = locked.raw;
      expect(typeof made.PUT).toBe("function");
      expect(locked.raw).toBe(made);
    }
  });

  it("the raw client sends the database header itself and runs middleware", async () => {
    const { fetch, calls } = scriptedFetch(created("event_ID"));
    const client = testClient(fetch);
    const seen: string[] = [];
    client.raw.use({
      onRequest({ request }) {
        seen.push(`request ${request.method}`);
        request.headers.set("x-trace", "t1");
      },
      onResponse({ response }) {
        seen.push(`response ${response.status}`);
      },
    });
    const { data, response } = await client.raw.PUT("/events-batch", {
      body: [
        { event_ID: 1, claim_Audit_Event: false, process_Automation_Event: false, reminder: true },
      ],
    });
    expect(response.status).toBe(207);
    expect(data?.data?.[0]?.status).toBe(201);
    expect(seen).toEqual(["request PUT", "response 207"]);
    expect(calls[0]?.headers.get("vbasoftware-database")).toBe("testdb");
    expect(calls[0]?.headers.get("x-trace")).toBe("t1");
  });
});

describe("raw client", () => {
  it("honours a signal passed to raw.PUT and retries like upsertBatch", async () => {
    const aborted = scriptedFetch(hang());
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 20);
    await expect(
      testClient(aborted.fetch).raw.PUT("/tolerances-batch", {
        body: [],
        signal: controller.signal,
      }),
    ).rejects.toBeInstanceOf(AbortError);

    const flaky = scriptedFetch(() => problem(503, "busy"), created("tolerance_Key"));
    const { response } = await testClient(flaky.fetch).raw.PUT("/tolerances-batch", {
      body: [tolerance(1)],
    });
    expect(response.status).toBe(207);
    expect(flaky.calls).toHaveLength(2);
  });

  it("returns non-retryable errors the openapi-fetch way", async () => {
    const { fetch } = scriptedFetch(() => problem(400, "bad"));
    const { error, response } = await testClient(fetch).raw.PUT("/tolerances-batch", { body: [] });
    expect(response.status).toBe(400);
    expect(error).toMatchObject({ detail: "bad" });
  });
});

describe("configuration", () => {
  it("reads apiKey, token and database from the environment", async () => {
    vi.stubEnv("VBAPI_API_KEY", "env-key");
    vi.stubEnv("VBAPI_TOKEN", "env-token");
    vi.stubEnv("VBAPI_DATABASE", "envdb");
    const { fetch, calls } = scriptedFetch(created("tolerance_Key"));
    await createVbapiClient({ fetch, baseUrl: "http://vba.test" }).upsertBatch("Tolerance", [
      tolerance(1),
    ]);
    expect(calls[0]?.headers.get("x-api-key")).toBe("env-key");
    expect(calls[0]?.headers.get("authorization")).toBe("Bearer env-token");
    expect(calls[0]?.headers.get("vbasoftware-database")).toBe("envdb");
  });

  it("fails with ConfigurationError at the first call when a setting is missing, without a request", async () => {
    vi.stubEnv("VBAPI_API_KEY", "");
    vi.stubEnv("VBAPI_TOKEN", "");
    vi.stubEnv("VBAPI_DATABASE", "");
    const { fetch, calls } = scriptedFetch(created("tolerance_Key"));
    const client = createVbapiClient({ fetch, apiKey: "k" });
    const error = await client.upsertBatch("Tolerance", [tolerance(1)]).catch((e) => e);
    expect(error).toBeInstanceOf(ConfigurationError);
    expect(error.message).toMatch(/token.*VBAPI_TOKEN.*database.*VBAPI_DATABASE/);
    await expect(client.raw.PUT("/tolerances-batch", { body: [] })).rejects.toBeInstanceOf(
      ConfigurationError,
    );
    expect(calls).toHaveLength(0);
  });

  it("rejects nonsense options early", () => {
    expect(() => createVbapiClient({ timeoutMs: 0 })).toThrow(ConfigurationError);
    expect(() => createVbapiClient({ maxRetries: -1 })).toThrow(ConfigurationError);
  });
});

describe("retries", () => {
  it.each([408, 429, 502, 503, 504])("retries HTTP %i and then succeeds", async (status) => {
    const { fetch, calls } = scriptedFetch(
      () => problem(status, "busy", { "retry-after": "0" }),
      created("tolerance_Key"),
    );
    const onRetry = vi.fn();
    const result = await testClient(fetch).upsertBatch("Tolerance", [tolerance(1)], { onRetry });
    expect(calls).toHaveLength(2);
    expect(result.succeeded).toBe(1);
    expect(onRetry).toHaveBeenCalledWith(
      expect.objectContaining({ retry: 1, reason: "status", status }),
    );
  });

  it("gives up after maxRetries with the typed error", async () => {
    const { fetch, calls } = scriptedFetch(() => problem(503, "down"));
    const error = await testClient(fetch, { maxRetries: 3 })
      .upsertBatch("Tolerance", [tolerance(1)])
      .catch((e) => e);
    expect(calls).toHaveLength(4);
    expect(error).toBeInstanceOf(InternalServerError);
    expect(error).toMatchObject({ status: 503, detail: "down", title: "HTTP 503" });
  });

  it("per-call maxRetries overrides the client's", async () => {
    const { fetch, calls } = scriptedFetch(() => problem(502, "bad gateway"));
    await expect(
      testClient(fetch).upsertBatch("Tolerance", [tolerance(1)], { maxRetries: 0 }),
    ).rejects.toBeInstanceOf(InternalServerError);
    expect(calls).toHaveLength(1);
  });

  it("does not retry other 4xx answers", async () => {
    for (const [status, type] of [
      [400, BadRequestError],
      [403, PermissionDeniedError],
      [404, ApiError],
      [409, ApiError],
    ] as const) {
      const { fetch, calls } = scriptedFetch(() => problem(status, "no"));
      const error = await testClient(fetch)
        .upsertBatch("Tolerance", [tolerance(1)])
        .catch((e) => e);
      expect(error).toBeInstanceOf(type);
      expect(error.status).toBe(status);
      expect(calls).toHaveLength(1);
    }
  });

  it("honours Retry-After in seconds, capped by maxRetryAfterMs", async () => {
    const { fetch } = scriptedFetch(
      () => problem(503, "wait", { "retry-after": "1" }),
      created("tolerance_Key"),
    );
    let start = performance.now();
    await testClient(fetch).upsertBatch("Tolerance", [tolerance(1)]);
    expect(performance.now() - start).toBeGreaterThanOrEqual(950);

    const capped = scriptedFetch(
      () => problem(503, "wait", { "retry-after": "3600" }),
      created("tolerance_Key"),
    );
    start = performance.now();
    await testClient(capped.fetch, { backoff: { maxRetryAfterMs: 50 } }).upsertBatch("Tolerance", [
      tolerance(1),
    ]);
    const elapsed = performance.now() - start;
    expect(elapsed).toBeGreaterThanOrEqual(45);
    // Not the hour the server asked for.
    expect(elapsed).toBeLessThan(10_000);
  });

  it("honours Retry-After as an HTTP date", async () => {
    const { fetch } = scriptedFetch(
      () => problem(503, "wait", { "retry-after": new Date(Date.now() + 1500).toUTCString() }),
      created("tolerance_Key"),
    );
    const start = performance.now();
    await testClient(fetch).upsertBatch("Tolerance", [tolerance(1)]);
    // HTTP dates have whole-second resolution.
    expect(performance.now() - start).toBeGreaterThanOrEqual(400);
  });

  it("a 429 pauses the client's shared rate limiter, holding back other requests", async () => {
    let n = 0;
    const { fetch, calls } = scriptedFetch((call) => {
      n++;
      return n === 1
        ? problem(429, "slow down", { "retry-after": "0.3" })
        : created("tolerance_Key")(call, n);
    });
    const client = testClient(fetch, { rateLimit: { requestsPerSecond: 1000, burst: 1000 } });
    const first = client.upsertBatch("Tolerance", [tolerance(1)]);
    await vi.waitFor(() => expect(calls).toHaveLength(1));
    await new Promise((r) => setTimeout(r, 20));
    expect(client.rateLimiter.pausedFor()).toBeGreaterThan(200);
    const start = performance.now();
    await client.upsertBatch("Tolerance", [tolerance(2)]); // another request waits for the pause too
    expect(performance.now() - start).toBeGreaterThanOrEqual(200);
    await first;
    expect(client.rateLimiter.stats().rateLimited).toBe(1);
    expect(calls).toHaveLength(3);
  });

  it("a 429 that outlasts the retries becomes RateLimitError with retryAfterMs", async () => {
    const { fetch } = scriptedFetch(() => problem(429, "slow down", { "retry-after": "0" }));
    const error = await testClient(fetch, { maxRetries: 1 })
      .upsertBatch("Tolerance", [tolerance(1)])
      .catch((e) => e);
    expect(error).toBeInstanceOf(RateLimitError);
    expect(error.retryAfterMs).toBe(0);
  });

  it("retries connection errors and marks whether the request may have been applied", async () => {
    const refused = scriptedFetch(connectionError("ECONNREFUSED"));
    const e1 = await testClient(refused.fetch)
      .upsertBatch("Tolerance", [tolerance(1)])
      .catch((e) => e);
    expect(e1).toBeInstanceOf(ConnectionError);
    expect(e1).toMatchObject({ code: "ECONNREFUSED", mayHaveBeenApplied: false });
    expect(refused.calls).toHaveLength(3);

    const reset = scriptedFetch(connectionError("ECONNRESET"));
    const e2 = await testClient(reset.fetch)
      .upsertBatch("Tolerance", [tolerance(1)])
      .catch((e) => e);
    expect(e2).toMatchObject({ code: "ECONNRESET", mayHaveBeenApplied: true });

    // The same "not sent" codes raised by a socket already connected (Linux reports the last
    // ICMP error, EHOSTUNREACH, when an established connection gives up retransmitting): the
    // request may have been written. Node names the call: connect and DNS lookups come before.
    for (const [code, syscall, applied] of [
      ["EHOSTUNREACH", "read", true],
      ["ECONNREFUSED", "write", true],
      ["ENETUNREACH", "writev", true],
      ["ECONNREFUSED", "connect", false],
      ["ENOTFOUND", "getaddrinfo", false],
      ["EAI_AGAIN", "queryA", false],
      // Only those names exactly.
      ["ECONNREFUSED", "connectx", true],
      ["ECONNREFUSED", "", true],
    ] as const) {
      const late = scriptedFetch(() => {
        throw Object.assign(new TypeError("fetch failed"), {
          cause: Object.assign(new Error(`${syscall} ${code}`), { code, syscall }),
        });
      });
      const e = await testClient(late.fetch, { maxRetries: 0 })
        .upsertBatch("Tolerance", [tolerance(1)])
        .catch((x) => x);
      expect({ code, syscall, applied: e.mayHaveBeenApplied }).toEqual({ code, syscall, applied });
    }

    const recovered = scriptedFetch(connectionError("ECONNRESET"), created("tolerance_Key"));
    expect(
      (await testClient(recovered.fetch).upsertBatch("Tolerance", [tolerance(1)])).succeeded,
    ).toBe(1);
  });
});

describe("timeouts and aborts", () => {
  it("times out each attempt separately, with a fresh signal per attempt", async () => {
    const { fetch, calls } = scriptedFetch(hang());
    const start = performance.now();
    const error = await testClient(fetch, { timeoutMs: 60, maxRetries: 2 })
      .upsertBatch("Tolerance", [tolerance(1)])
      .catch((e) => e);
    expect(error).toBeInstanceOf(TimeoutError);
    expect(error).toMatchObject({ timeoutMs: 60, mayHaveBeenApplied: true });
    expect(calls).toHaveLength(3);
    expect(new Set(calls.map((c) => c.signal)).size).toBe(3);
    expect(performance.now() - start).toBeGreaterThanOrEqual(170);
  });

  it("per-call timeoutMs overrides the client's and a slow attempt is followed by a good one", async () => {
    const { fetch, calls } = scriptedFetch(hang(), created("tolerance_Key"));
    const result = await testClient(fetch, { timeoutMs: 60_000 }).upsertBatch(
      "Tolerance",
      [tolerance(1)],
      {
        timeoutMs: 50,
      },
    );
    expect(result.succeeded).toBe(1);
    expect(calls[1]?.signal?.aborted).toBe(false);
  });

  it("the timeout covers reading the body", async () => {
    const { fetch } = scriptedFetch((call) => {
      const body = new ReadableStream({
        start(controller) {
          controller.enqueue(new TextEncoder().encode('{"data":['));
          call.signal?.addEventListener("abort", () => controller.error(call.signal?.reason));
        },
      });
      return new Response(body, { status: 207 });
    });
    const error = await testClient(fetch, { timeoutMs: 50, maxRetries: 0 })
      .upsertBatch("Tolerance", [tolerance(1)])
      .catch((e) => e);
    expect(error).toBeInstanceOf(TimeoutError);
  });

  it("the caller's signal aborts without retrying", async () => {
    const { fetch, calls } = scriptedFetch(hang());
    const controller = new AbortController();
    const pending = testClient(fetch).upsertBatch("Tolerance", [tolerance(1)], {
      signal: controller.signal,
    });
    setTimeout(() => controller.abort(), 30);
    const error = await pending.catch((e) => e);
    expect(error).toBeInstanceOf(AbortError);
    expect(error.mayHaveBeenApplied).toBe(true);
    expect(calls).toHaveLength(1);
  });

  it("an already aborted signal sends nothing", async () => {
    const { fetch, calls } = scriptedFetch(created("tolerance_Key"));
    const error = await testClient(fetch)
      .upsertBatch("Tolerance", [tolerance(1)], { signal: AbortSignal.abort() })
      .catch((e) => e);
    expect(error).toBeInstanceOf(AbortError);
    expect(error.mayHaveBeenApplied).toBe(false);
    expect(calls).toHaveLength(0);
  });
});

describe("authentication", () => {
  it("calls the token function again and retries once on 401", async () => {
    let issued = 0;
    const token = vi.fn(async () => `token-${++issued}`);
    const { fetch, calls } = scriptedFetch((call) =>
      call.headers.get("authorization") === "Bearer token-1"
        ? problem(401, "expired")
        : created("tolerance_Key")(call, 0),
    );
    const client = testClient(fetch, { token });
    expect((await client.upsertBatch("Tolerance", [tolerance(1)])).succeeded).toBe(1);
    expect(token).toHaveBeenCalledTimes(2);
    expect(calls.map((c) => c.headers.get("authorization"))).toEqual([
      "Bearer token-1",
      "Bearer token-2",
    ]);
    // The refreshed token is cached.
    await client.upsertBatch("Tolerance", [tolerance(2)]);
    expect(token).toHaveBeenCalledTimes(2);
  });

  it("refreshes only once: a second 401 is an AuthenticationError", async () => {
    const token = vi.fn(async () => "always-bad");
    const { fetch, calls } = scriptedFetch(() => problem(401, "nope"));
    const error = await testClient(fetch, { token })
      .upsertBatch("Tolerance", [tolerance(1)])
      .catch((e) => e);
    expect(error).toBeInstanceOf(AuthenticationError);
    expect(calls).toHaveLength(2);
    expect(token).toHaveBeenCalledTimes(2);
  });

  it("a fixed token is not retried on 401", async () => {
    const { fetch, calls } = scriptedFetch(() => problem(401, "nope"));
    await expect(testClient(fetch).upsertBatch("Tolerance", [tolerance(1)])).rejects.toBeInstanceOf(
      AuthenticationError,
    );
    expect(calls).toHaveLength(1);
  });
});

describe("answers", () => {
  it("parses the 207 as JSON whatever its content type", async () => {
    const { fetch } = scriptedFetch(() =>
      json(
        207,
        {
          data: [{ id: [{ key: "Tolerance_Key", value: "1" }], status: 200, body: "Updated" }],
          debug: { activityID: "a1" },
        },
        "text/plain; charset=utf-8",
      ),
    );
    const result = await testClient(fetch).upsertBatch("Tolerance", [tolerance(1)]);
    expect(result.items[0]).toMatchObject({ outcome: "updated", status: 200 });
    expect(result.activityId).toBe("a1");
  });

  it("a 2xx body that is not JSON is a ResponseParseError", async () => {
    const { fetch } = scriptedFetch(
      () =>
        new Response("<html>oops</html>", {
          status: 207,
          headers: { "content-type": "text/html" },
        }),
    );
    const error = await testClient(fetch)
      .upsertBatch("Tolerance", [tolerance(1)])
      .catch((e) => e);
    expect(error).toBeInstanceOf(ResponseParseError);
    expect(error.status).toBe(207);
  });

  it("a 2xx JSON body of the wrong shape is a ResponseParseError", async () => {
    for (const body of [[1, 2], { data: "nope" }, "text"]) {
      const { fetch } = scriptedFetch(() => json(207, body));
      await expect(
        testClient(fetch).upsertBatch("Tolerance", [tolerance(1)]),
      ).rejects.toBeInstanceOf(ResponseParseError);
    }
  });

  it("reads problem details and VBA's activity id from an error answer", async () => {
    const { fetch } = scriptedFetch(() =>
      json(400, {
        data: null,
        error: {
          type: "t",
          title: "Bad Request",
          status: 400,
          detail: "record 0: bad",
          instance: "/i",
        },
        debug: { activityID: "act-9" },
      }),
    );
    const error = await testClient(fetch)
      .upsertBatch("Tolerance", [tolerance(1)])
      .catch((e) => e);
    expect(error).toBeInstanceOf(BadRequestError);
    expect(error).toMatchObject({
      status: 400,
      type: "t",
      title: "Bad Request",
      detail: "record 0: bad",
      instance: "/i",
      activityId: "act-9",
    });
    expect(error.message).toContain("act-9");
  });
});

describe("validation", () => {
  it("raises ValidationError listing every invalid record, without a request", async () => {
    const { fetch, calls } = scriptedFetch(created("tolerance_Key"));
    const error = await testClient(fetch)
      .upsertBatch("Tolerance", [
        tolerance(1),
        { tolerance_Key: 2 } as never,
        tolerance(3, { group_ID: "x".repeat(21) }),
      ])
      .catch((e) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect(error.issues).toEqual([
      { index: 1, path: "tolerance1", message: "is required" },
      { index: 2, path: "group_ID", message: "must be at most 20 characters long" },
    ]);
    expect(calls).toHaveLength(0);
  });

  it("skip-invalid sends the valid records and reports the others as failed, in input order", async () => {
    const { fetch, calls } = scriptedFetch(created("tolerance_Key"));
    const result = await testClient(fetch).upsertBatch(
      "Tolerance",
      [{ tolerance_Key: 1 } as never, tolerance(2), tolerance(3, { tolerance1: "lots" })],
      { validate: "skip-invalid" },
    );
    expect(JSON.parse(calls[0]?.body ?? "")).toEqual([tolerance(2)]);
    expect(result.items).toEqual([
      {
        index: 0,
        key: { tolerance_Key: 1 },
        status: 0,
        outcome: "failed",
        message: "invalid: tolerance1: is required",
      },
      { index: 1, key: { tolerance_Key: 2 }, status: 201, outcome: "created", message: "Created" },
      {
        index: 2,
        key: { tolerance_Key: 3 },
        status: 0,
        outcome: "failed",
        message: "invalid: tolerance1: must be a finite number",
      },
    ]);
    expect(result).toMatchObject({ succeeded: 1, failed: 2 });
  });

  it("a ProviderCredService record whose providerCred_Key differs from the path is invalid", async () => {
    const { fetch, calls } = scriptedFetch(created("credService_Key"));
    const error = await testClient(fetch)
      .upsertBatch("ProviderCredService", [{ providerCred_Key: 1, credService_Key: 1 }], {
        pathParams: { providerCredKey: 2 },
      })
      .catch((e) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect(error.issues[0]).toMatchObject({ index: 0, path: "providerCred_Key" });
    expect(calls).toHaveLength(0);
  });

  it("validate: false sends records as given", async () => {
    const { fetch, calls } = scriptedFetch(created("tolerance_Key"));
    await testClient(fetch).upsertBatch("Tolerance", [{ tolerance_Key: 1 } as never], {
      validate: false,
    });
    expect(calls).toHaveLength(1);
  });
});
