// Trust at the edges (issue 10): a server that lies, a redirect, a token provider that hangs or
// throws, an input that stalls or throws, errors raised before a byte was sent. Every test runs
// over real HTTP on loopback, against servers of its own that can lie as VBA never should.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { inspect } from "node:util";
import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import {
  ApiError,
  ConfigurationError,
  RequestSetupError,
  ResponseParseError,
  TokenProviderError,
  ValidationError,
} from "../src/base/errors.ts";
import { upsertAllTolerances } from "../src/bulk/index.ts";
import { createVbapiClient } from "../src/client/client.ts";
import type { VbapiClientOptions } from "../src/index.ts";

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage["headers"];
  body: string;
}
type Reply = (
  seen: Seen,
  n: number,
) => { status: number; body?: unknown; headers?: Record<string, string> } | "hang";

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(
    servers.splice(0).map(
      (s) =>
        new Promise<void>((resolve) => {
          s.closeAllConnections();
          s.close(() => resolve());
        }),
    ),
  );
});

/** A loopback server answering with `reply`; records what it received. */
async function serve(reply: Reply) {
  const seen: Seen[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const s = {
        method: req.method ?? "",
        url: req.url ?? "",
        headers: req.headers,
        body: Buffer.concat(chunks).toString(),
      };
      seen.push(s);
      const answer = reply(s, seen.length);
      if (answer === "hang") return;
      const text =
        answer.body === undefined
          ? ""
          : typeof answer.body === "string"
            ? answer.body
            : JSON.stringify(answer.body);
      res.writeHead(answer.status, { "content-type": "application/json", ...answer.headers });
      res.end(text);
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, seen };
}

const API_KEY = "sk-TRUST-APIKEY-77aa66bb55cc";
const TOKEN = "eyJ.TRUST-TOKEN-1234.sig";

function client(baseUrl: string, options: VbapiClientOptions = {}) {
  return createVbapiClient({
    baseUrl,
    apiKey: API_KEY,
    token: TOKEN,
    database: "trustdb",
    rateLimit: false,
    maxRetries: 0,
    backoff: { initialDelayMs: 1, maxDelayMs: 5, maxRetryAfterMs: 50 },
    logLevel: "off",
    ...options,
  });
}

const entry = (key: unknown, status = 201) => ({
  id: [{ key: "tolerance_Key", value: key }],
  status,
  body: status === 201 ? "Created" : status === 200 ? "Updated" : "Failed",
});
const envelope = (data: unknown[]) => ({ data, error: null, debug: { activityID: "act-1" } });
const keysOf = (body: string) =>
  (JSON.parse(body) as { tolerance_Key: number }[]).map((r) => r.tolerance_Key);
const tolerances = (n: number, from = 1) =>
  Array.from({ length: n }, (_, i) => ({ tolerance_Key: from + i, tolerance1: 1.5 }));

describe("a 207 that names other records", () => {
  it.each([
    ["[1, 999]", [1, 999]],
    ["[999]", [999]],
    ["[1, 1]", [1, 1]],
  ])("entries %s never report record 2 saved", async (_name, keys) => {
    const warnings: string[] = [];
    const { url } = await serve(() => ({ status: 207, body: envelope(keys.map((k) => entry(k))) }));
    const c = client(url, {
      logLevel: "warn",
      logger: { debug() {}, info() {}, warn: (m) => warnings.push(m), error() {} },
    });
    const result = await c.upsertBatch("Tolerance", tolerances(2));
    const second = result.items[1];
    expect(second).toMatchObject({ index: 1, outcome: "failed", status: 0 });
    if (!keys.includes(1)) expect(result.items[0]).toMatchObject({ outcome: "failed", status: 0 });
    // The foreign entry is logged without its values.
    expect(warnings.join("\n")).toMatch(/named no record of the request/);
    expect(warnings.join("\n")).not.toContain("999");
  });

  it("upsertAll re-sends a record the answer did not report on, until its own key is reported", async () => {
    const { url, seen } = await serve((s, n) => {
      const keys = keysOf(s.body);
      // First answer: names a foreign key instead of the second record.
      const reported = n === 1 ? [keys[0], 999] : keys;
      return { status: 207, body: envelope(reported.map((k) => entry(k))) };
    });
    const report = await upsertAllTolerances(client(url), tolerances(2), { recordRetryDelayMs: 0 });
    expect(report.items.map((i) => i.outcome)).toEqual(["created", "created"]);
    expect(report.items[1]?.attempts).toBe(2);
    expect(seen.map((s) => keysOf(s.body))).toEqual([[1, 2], [2]]);
  });

  it("property: no record is reported saved unless an entry with its own key said so", async () => {
    const entryArb = fc.oneof(
      fc.record({
        kind: fc.constant("own" as const),
        at: fc.nat(7),
        status: fc.constantFrom(200, 201, 400, 500),
      }),
      fc.record({
        kind: fc.constant("foreign" as const),
        key: fc.integer({ min: 100, max: 105 }),
        status: fc.constantFrom(200, 201),
      }),
      fc.record({ kind: fc.constant("keyless" as const), status: fc.constantFrom(200, 201) }),
    );
    let script: { kind: string; at?: number; key?: number; status: number }[] = [];
    const { url } = await serve((s) => {
      const keys = keysOf(s.body);
      const data = script.map((e) =>
        e.kind === "own"
          ? entry(keys[(e.at ?? 0) % keys.length], e.status)
          : e.kind === "foreign"
            ? entry(e.key, e.status)
            : { status: e.status, body: "Created" },
      );
      return { status: 207, body: envelope(data) };
    });
    const c = client(url);
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 6 }),
        fc.array(entryArb, { maxLength: 9 }),
        async (n, entries) => {
          script = entries;
          const records = tolerances(n);
          const result = await c.upsertBatch("Tolerance", records);
          const anyKey = entries.some((e) => e.kind !== "keyless");
          result.items.forEach((item, i) => {
            if (item.outcome === "failed") return;
            const own = entries.filter((e) => e.kind === "own" && e.at % n === i);
            const positional = !anyKey && entries.length === n && entries[i]?.kind === "keyless";
            expect(own.length > 0 || positional).toBe(true);
          });
          const saved = result.items.filter((i) => i.outcome !== "failed").length;
          const ownSuccesses = new Set(
            entries.flatMap((e) => (e.kind === "own" && e.status < 300 ? [e.at % n] : [])),
          ).size;
          if (anyKey) expect(saved).toBeLessThanOrEqual(ownSuccesses);
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe("redirects", () => {
  it("a 307 to another origin is an ApiError naming the origin; nothing is re-sent there", async () => {
    const other = await serve(() => ({ status: 207, body: envelope([entry(1)]) }));
    const { url } = await serve(() => ({
      status: 307,
      headers: { location: `${other.url}/steal?key=abc` },
    }));
    const error = await client(url)
      .upsertBatch("Tolerance", tolerances(1))
      .catch((e) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error.status).toBe(307);
    expect(error.redirectOrigin).toBe(other.url);
    expect(error.message).toContain(other.url);
    expect(error.message).toContain("nothing was re-sent");
    expect(error.message).not.toContain("steal");
    expect(other.seen).toHaveLength(0);
  });

  it("upsertAll fails the records of a redirected request without following it", async () => {
    const other = await serve(() => ({ status: 207, body: envelope([]) }));
    const { url } = await serve(() => ({ status: 308, headers: { location: other.url } }));
    const report = await upsertAllTolerances(client(url), tolerances(3));
    expect(report.items.every((i) => i.outcome === "failed" && i.status === 308)).toBe(true);
    expect(report.items.some((i) => i.mayHaveBeenApplied)).toBe(false);
    expect(other.seen).toHaveLength(0);
  });
});

describe("the token provider", () => {
  const ok = () => ({ status: 207, body: undefined as unknown });
  const echo: Reply = (s) => ({ status: 207, body: envelope(keysOf(s.body).map((k) => entry(k))) });

  it("a provider that never settles is bounded by the attempt timeout", async () => {
    const { url, seen } = await serve(echo);
    const c = client(url, {
      token: () => new Promise<string>(() => {}),
      timeoutMs: 100,
      maxRetries: 1,
    });
    const started = Date.now();
    const error = await c.upsertBatch("Tolerance", tolerances(1)).catch((e) => e);
    expect(error).toBeInstanceOf(TokenProviderError);
    expect(error.mayHaveBeenApplied).toBe(false);
    // Two attempts of 100 ms and a backoff, not a hang.
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(seen).toHaveLength(0);
    void ok;
  });

  it("a provider that never settles is bounded by the caller's signal", async () => {
    const { url } = await serve(echo);
    const c = client(url, { token: () => new Promise<string>(() => {}) });
    const error = await c
      .upsertBatch("Tolerance", tolerances(1), { signal: AbortSignal.timeout(50) })
      .catch((e) => e);
    expect(error.name).toBe("AbortError");
    expect(error.mayHaveBeenApplied).toBe(false);
  });

  it("upsertAll with a hung provider settles, and flags no record as maybe applied", async () => {
    const { url } = await serve(echo);
    const c = client(url, { token: () => new Promise<string>(() => {}), timeoutMs: 50 });
    const report = await upsertAllTolerances(c, tolerances(4), {
      chunkSize: 2,
      recordRetryDelayMs: 0,
    });
    // Nothing was ever sent: after the client's retries the run stops, no record is blamed.
    expect(report.totals.notAttempted).toBe(4);
    expect(report.items[0]?.message).toMatch(/the token provider did not answer within 50 ms/);
    expect(report.items.some((i) => i.mayHaveBeenApplied)).toBe(false);
  });

  it("a provider that throws once mid-run is retried; its secret-bearing error stays out of messages", async () => {
    let calls = 0;
    const { url } = await serve((s, n) =>
      n === 3 ? { status: 401, body: { title: "expired" } } : echo(s, n),
    );
    const token = async () => {
      calls++;
      if (calls === 2) throw new Error(`vault said no for password hunter2-${API_KEY}`);
      return `${TOKEN}-${calls}`;
    };
    const report = await upsertAllTolerances(
      client(url, { token, maxRetries: 2 }),
      tolerances(10),
      {
        chunkSize: 2,
        concurrency: 1,
        recordRetryDelayMs: 0,
      },
    );
    expect(report.totals.created).toBe(10);
    expect(report.items.some((i) => i.mayHaveBeenApplied)).toBe(false);
    expect(calls).toBe(3);
  });

  it("upsertBatch wraps a throwing provider in a TokenProviderError, cause kept, message clean", async () => {
    const { url } = await serve(echo);
    const secret = "hunter2-PASSWORD";
    const cause = new Error(`login failed for ${secret}`);
    const error = await client(url, { token: () => Promise.reject(cause) })
      .upsertBatch("Tolerance", tolerances(1))
      .catch((e) => e);
    expect(error).toBeInstanceOf(TokenProviderError);
    expect(error.cause).toBe(cause);
    for (const text of [error.message, String(error), JSON.stringify(error), inspect(error)]) {
      expect(text).not.toContain(secret);
    }
  });
});

describe("an input that stalls or throws", () => {
  it("abort while an async input is stalled settles promptly and accounts for every record produced", async () => {
    const { url } = await serve((s) => ({
      status: 207,
      body: envelope(keysOf(s.body).map((k) => entry(k))),
    }));
    const controller = new AbortController();
    async function* stalled() {
      yield* tolerances(5);
      // Yields one more record exactly when the run is aborted, then never again.
      await new Promise((resolve) => controller.signal.addEventListener("abort", resolve));
      yield { tolerance_Key: 99, tolerance1: 1 };
      await new Promise(() => {});
    }
    // Aborted once the five are saved (not on a timer a busy machine can outrun), while the
    // input is stalled.
    let saved = 0;
    let abortedAt = 0;
    const report = await upsertAllTolerances(client(url), stalled(), {
      signal: controller.signal,
      lingerMs: 20,
      onRecord: (item) => {
        if (item.outcome === "created" && ++saved === 5) {
          abortedAt = Date.now();
          setTimeout(() => controller.abort(), 50);
        }
      },
    });
    // The stalled input is not waited on (it never yields): the abort ends the run.
    expect(Date.now() - abortedAt).toBeLessThan(5_000);
    expect(report.totals.created).toBe(5);
    expect(report.items.map((i) => i.key.tolerance_Key)).toEqual([1, 2, 3, 4, 5, 99]);
    expect(report.items[5]).toMatchObject({ outcome: "not_attempted" });
  });

  it("a slow input's partly filled chunk goes after lingerMs, not when the chunk fills", async () => {
    const { url, seen } = await serve((s) => ({
      status: 207,
      body: envelope(keysOf(s.body).map((k) => entry(k))),
    }));
    const controller = new AbortController();
    let sentEarly = -1;
    async function* slow() {
      yield* tolerances(3);
      await new Promise((resolve) => setTimeout(resolve, 400));
      sentEarly = seen.length;
      controller.abort();
      await new Promise(() => {});
    }
    const report = await upsertAllTolerances(client(url), slow(), {
      signal: controller.signal,
      lingerMs: 50,
    });
    expect(sentEarly).toBe(1);
    expect(report.totals.created).toBe(3);
  });

  it("a record whose toJSON or getter throws fails alone; the rest go on and the report returns", async () => {
    const { url } = await serve((s) => ({
      status: 207,
      body: envelope(keysOf(s.body).map((k) => entry(k))),
    }));
    const records: unknown[] = tolerances(6);
    class Throwing {
      tolerance_Key = 3;
      tolerance1 = 1;
      toJSON() {
        throw new Error("boom");
      }
    }
    records[2] = new Throwing();
    records[4] = Object.defineProperty({ tolerance_Key: 5 }, "tolerance1", {
      enumerable: true,
      get: () => {
        throw new Error("getter");
      },
    });
    const report = await upsertAllTolerances(client(url), records as never);
    expect(report.items.map((i) => i.outcome)).toEqual([
      "created",
      "created",
      "failed",
      "created",
      "failed",
      "created",
    ]);
    expect(report.items[2]?.message).toMatch(/could not be serialized/);
    expect(report.items[4]?.message).toMatch(/could not be read/);
    const error = await client(url)
      .upsertBatch("Tolerance", records as never)
      .catch((e) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect(error.issues.map((i: { index: number }) => i.index)).toEqual([2, 4]);
  });
});

describe("errors before a byte was sent", () => {
  it("a fetch that refuses to build the request is not retried and not maybe-applied; the cause is kept", async () => {
    let calls = 0;
    const cause = new TypeError('Headers.append: "x" is an invalid header value.');
    const fetch = (async () => {
      calls++;
      throw cause;
    }) as unknown as typeof globalThis.fetch;
    const error = await client("http://127.0.0.1:9", { fetch, maxRetries: 3 })
      .upsertBatch("Tolerance", tolerances(1))
      .catch((e) => e);
    expect(error).toBeInstanceOf(RequestSetupError);
    expect(error.mayHaveBeenApplied).toBe(false);
    expect(error.cause).toBe(cause);
    expect(calls).toBe(1);
  });

  it("upsertAll stops at a request that cannot be built and reports its records not attempted", async () => {
    const fetch = (async () => {
      throw new TypeError("fetch refused");
    }) as unknown as typeof globalThis.fetch;
    const report = await upsertAllTolerances(
      client("http://127.0.0.1:9", { fetch }),
      tolerances(6),
      {
        chunkSize: 2,
        concurrency: 1,
      },
    );
    expect(report.totals.notAttempted).toBe(6);
    expect(report.items.some((i) => i.mayHaveBeenApplied)).toBe(false);
  });

  const bad: [string, VbapiClientOptions, RegExp][] = [
    ["baseUrl not a URL", { baseUrl: "not a url" }, /baseUrl is not a valid URL/],
    ["baseUrl ftp", { baseUrl: "ftp://vba.example" }, /baseUrl must be http or https/],
    ["apiKey with CR/LF", { apiKey: "abc\r\nx-evil: 1" }, /apiKey holds characters/],
    ["apiKey empty", { apiKey: "" }, /apiKey must not be empty/],
    ["apiKey not a string", { apiKey: 42 as never }, /apiKey must be a string/],
    ["database with LF", { database: "db\nx" }, /database holds characters/],
    ["token string with CR", { token: "abc\rdef" }, /token holds characters/],
    ["token a number", { token: 5 as never }, /token must be a string or a function/],
    ["logLevel", { logLevel: "verbose" as never }, /logLevel must be one of/],
    ["logger", { logger: { info() {} } as never }, /logger must have a debug\(\) method/],
    [
      "backoff NaN",
      { backoff: { initialDelayMs: Number.NaN } },
      /backoff.initialDelayMs must be a number >= 0 and at most 2147483647/,
    ],
    [
      "backoff past the longest timer (a Retry-After wait would fire after 1 ms)",
      { backoff: { maxRetryAfterMs: 3e9 } },
      /backoff.maxRetryAfterMs must be a number >= 0 and at most 2147483647/,
    ],
    ["backoff negative", { backoff: { maxDelayMs: -1 } }, /backoff.maxDelayMs/],
    ["fetch", { fetch: "nope" as never }, /fetch must be a function/],
    ["timeoutMs 0", { timeoutMs: 0 }, /timeoutMs must be a number > 0 and at most 2147483647/],
    [
      "timeoutMs past the longest timer",
      { timeoutMs: 3_000_000_000 },
      /at most 2147483647 \(about 24.8 days/,
    ],
  ];
  it.each(bad)(
    "createVbapiClient refuses %s with a ConfigurationError naming it",
    (_name, options, message) => {
      let error: unknown;
      try {
        client("http://127.0.0.1:9", options);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ConfigurationError);
      expect((error as Error).message).toMatch(message);
      expect((error as Error).message).not.toContain("x-evil");
    },
  );

  it("a per-call timeoutMs <= 0 throws instead of disabling the timeout", async () => {
    const c = client("http://127.0.0.1:9");
    await expect(c.upsertBatch("Tolerance", tolerances(1), { timeoutMs: 0 })).rejects.toThrow(
      ConfigurationError,
    );
    await expect(upsertAllTolerances(c, tolerances(1), { timeoutMs: -5 })).rejects.toThrow(
      /timeoutMs must be/,
    );
  });

  it.each(["__proto__", "toString", "constructor"])(
    "entity %s gets a clear error",
    async (name) => {
      const c = client("http://127.0.0.1:9");
      await expect(c.upsertBatch(name as never, [])).rejects.toThrow(
        /unknown entity "(__proto__|toString|constructor)"/,
      );
    },
  );
});

describe("bounded answers", () => {
  it("an answer larger than maxResponseBytes is refused, and its records may have been applied", async () => {
    const huge = { data: [entry(1)], debug: { activityID: "x".repeat(200_000) } };
    const { url } = await serve(() => ({ status: 207, body: huge }));
    const error = await client(url, { maxResponseBytes: 50_000 })
      .upsertBatch("Tolerance", tolerances(1))
      .catch((e) => e);
    expect(error).toBeInstanceOf(ResponseParseError);
    expect(error.message).toMatch(/larger than 50000 bytes/);
    const report = await upsertAllTolerances(
      client(url, { maxResponseBytes: 50_000 }),
      tolerances(1),
      {
        maxRecordRetries: 0,
      },
    );
    expect(report.items[0]).toMatchObject({ outcome: "failed", mayHaveBeenApplied: true });
  });

  it("a Date in a date-time field is sent as ISO 8601; an invalid Date is refused with a reason", async () => {
    const { url, seen } = await serve((s) => ({
      status: 207,
      body: envelope(
        (JSON.parse(s.body) as { event_ID: number }[]).map((r) => ({
          id: [{ key: "event_ID", value: r.event_ID }],
          status: 201,
        })),
      ),
    }));
    const c = client(url);
    const event = (id: number, due: Date) =>
      ({
        event_ID: id,
        claim_Audit_Event: false,
        process_Automation_Event: false,
        reminder: false,
        due_Date: due,
      }) as never;
    const result = await c.upsertBatch("Event", [event(1, new Date("2026-11-28T10:00:00Z"))]);
    expect(result.items[0]?.outcome).toBe("created");
    expect(JSON.parse(seen[0]?.body ?? "[]")[0].due_Date).toBe("2026-11-28T10:00:00.000Z");
    const error = await c.upsertBatch("Event", [event(2, new Date("nope"))]).catch((e) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect(error.message).toMatch(/due_Date: .*Date object/);
  });
});

describe("bulk runs against a lying server (property)", () => {
  it("no record is reported saved unless its own key was reported saved; every record is accounted for", async () => {
    let rng = 1;
    const random = () => {
      rng = (rng * 1103515245 + 12345) % 2 ** 31;
      return rng / 2 ** 31;
    };
    /** Keys the server ever reported with a 2xx, in this scenario. */
    let reportedSaved = new Set<number>();
    const { url } = await serve((s) => {
      const keys = keysOf(s.body);
      const data: unknown[] = [];
      for (const key of keys) {
        const roll = random();
        if (roll < 0.5) {
          data.push(entry(key, 201));
          reportedSaved.add(key);
        } else if (roll < 0.6)
          data.push(entry(10_000 + key, 201)); // a foreign key
        else if (roll < 0.7 && data.length > 0)
          data.push(data[data.length - 1]); // a duplicate
        else if (roll < 0.8)
          data.push({ status: 201, body: "Created" }); // no key at all
        else if (roll < 0.9) data.push(entry(key, 503));
        // else: left out
      }
      if (random() < 0.3) data.reverse();
      // The one case where position may speak for a record: no entry carries a key at all and
      // the counts agree (VBA's documented answer always carries keys).
      const keyless = data.every((e) => !(e as { id?: unknown }).id);
      if (keyless && data.length === keys.length) {
        data.forEach((e, j) => {
          if ((e as { status: number }).status < 300) reportedSaved.add(keys[j] as number);
        });
      }
      return { status: 207, body: envelope(data) };
    });
    const c = client(url);
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 2 ** 30 }),
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 1, max: 8 }),
        async (seed, n, chunkSize) => {
          rng = seed;
          reportedSaved = new Set();
          const report = await upsertAllTolerances(c, tolerances(n), {
            chunkSize,
            recordRetryDelayMs: 0,
            maxRecordRetries: 2,
          });
          const t = report.totals;
          expect(t.total).toBe(n);
          expect(t.created + t.updated + t.failed + t.notAttempted).toBe(n);
          for (const item of report.items) {
            if (item.outcome === "created" || item.outcome === "updated") {
              expect(reportedSaved.has(item.key.tolerance_Key)).toBe(true);
            }
          }
        },
      ),
      { numRuns: 40 },
    );
  });
});

describe("whole-batch refusals", () => {
  const echo = (keys: number[]) => ({ status: 207, body: envelope(keys.map((k) => entry(k))) });

  it("a 400 for the whole batch is bisected: only the offending record fails, the others are saved", async () => {
    const poison = new Set([37, 80]);
    const { url, seen } = await serve((s) => {
      const keys = keysOf(s.body);
      return keys.some((k) => poison.has(k))
        ? { status: 400, body: { title: "Bad Request", detail: "the batch could not be read" } }
        : echo(keys);
    });
    const report = await upsertAllTolerances(client(url), tolerances(100), {
      chunkSize: 50,
      maxRecordRetries: 0,
      recordRetryDelayMs: 0,
    });
    expect(report.totals).toMatchObject({ created: 98, failed: 2 });
    const failed = report.items.filter((i) => i.outcome === "failed");
    expect(failed.map((i) => [i.key.tolerance_Key, i.status])).toEqual([
      [37, 400],
      [80, 400],
    ]);
    expect(failed.every((i) => !i.mayHaveBeenApplied)).toBe(true);
    // Halving 50 down to 1 takes about log2(50) rounds per poisoned chunk, not 50 requests.
    expect(seen.length).toBeLessThan(30);
  });

  it("a 413 shrinks the chunks for the rest of the run, and every record is saved", async () => {
    const { url, seen } = await serve((s) => {
      const keys = keysOf(s.body);
      return keys.length > 20 ? { status: 413, body: { title: "Payload Too Large" } } : echo(keys);
    });
    const report = await upsertAllTolerances(client(url), tolerances(200), {
      chunkSize: 80,
      concurrency: 1,
      recordRetryDelayMs: 0,
    });
    expect(report.totals.created).toBe(200);
    const sizes = seen.map((s) => keysOf(s.body).length);
    // 80 -> 413, halves of 40 -> 413 ..., then every later chunk is small from the start.
    const firstFit = sizes.findIndex((n) => n <= 20);
    expect(sizes.slice(firstFit).every((n) => n <= 20)).toBe(true);
    expect(sizes.filter((n) => n > 20).length).toBeLessThanOrEqual(4);
  });

  it("a per-record 429 inside a 207 pauses the client's shared limiter", async () => {
    let first = true;
    const { url } = await serve((s) => {
      const keys = keysOf(s.body);
      if (first) {
        first = false;
        return { status: 207, body: envelope(keys.map((k) => entry(k, 429))) };
      }
      return echo(keys);
    });
    const c = client(url, { rateLimit: { requestsPerSecond: 1000, burst: 1000 } });
    const report = await upsertAllTolerances(c, tolerances(5), { recordRetryDelayMs: 0 });
    expect(report.totals.created).toBe(5);
    expect(c.rateLimiter.stats().rateLimited).toBe(1);
  });
});
