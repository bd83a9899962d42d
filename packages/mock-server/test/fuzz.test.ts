// Property-based tests: thousands of malformed bodies get only 400/413 answers, valid batches
// generated from the spec's schemas are all stored, and the server stays up.
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { type MockServer, startMockServer } from "../src/index.ts";
import { type Json, put, spec, specRoutes } from "./helpers.ts";

// Thousands of requests per property: on a machine busy with the rest of the suite they take
// longer than the default 20 s, without being wrong.
vi.setConfig({ testTimeout: 60_000 });

let server: MockServer;
beforeAll(async () => {
  server = await startMockServer({ rateLimit: false, maxBodyBytes: 256 * 1024 });
});
afterAll(() => server.close());

type PropSchema = Record<string, unknown>;
const INT32 = { min: -(2 ** 31), max: 2 ** 31 - 1 };

/** A generator of valid values for one property schema of the spec. */
function valueFor(schema: PropSchema): fc.Arbitrary<unknown> {
  const types = (Array.isArray(schema.type) ? schema.type : [schema.type]) as string[];
  const options: fc.Arbitrary<unknown>[] = [];
  for (const type of types) {
    if (type === "null") options.push(fc.constant(null));
    if (type === "boolean") options.push(fc.boolean());
    if (type === "integer") options.push(fc.integer(INT32));
    if (type === "number") options.push(fc.double({ noNaN: true, noDefaultInfinity: true }));
    if (type === "string") {
      if (schema.format === "date-time") {
        options.push(
          fc
            .date({ min: new Date("1900-01-01"), max: new Date("2200-01-01"), noInvalidDate: true })
            .map((d) => d.toISOString()),
        );
      } else {
        options.push(
          fc.string({
            minLength: (schema.minLength as number) ?? 0,
            maxLength: (schema.maxLength as number) ?? 40,
            unit: "grapheme-ascii",
          }),
        );
      }
    }
  }
  if (options.length === 0) throw new Error(`no generator for ${JSON.stringify(schema)}`);
  return fc.oneof(...options);
}

/** A generator of valid records for an entity, from its schema. */
function recordFor(entity: string, fixed: Json = {}): fc.Arbitrary<Json> {
  const schema = spec.components.schemas[entity] as {
    properties: Record<string, PropSchema>;
    required: string[];
  };
  const required: Record<string, fc.Arbitrary<unknown>> = {};
  const optional: Record<string, fc.Arbitrary<unknown>> = {};
  for (const [name, prop] of Object.entries(schema.properties)) {
    const arb = name in fixed ? fc.constant(fixed[name]) : valueFor(prop);
    if (schema.required.includes(name) || name in fixed) required[name] = arb;
    else optional[name] = arb;
  }
  return fc
    .tuple(fc.record(required), fc.record(optional, { requiredKeys: [] }))
    .map(([a, b]) => ({ ...a, ...b }));
}

const routes = specRoutes().map((r) => {
  // Bind path parameters to a fixed value and give records that value (via x-vbapi-record-field).
  const fixed: Json = {};
  const path = r.template.replace(/\{([^}]+)\}/g, (_m, name: string) => {
    const param = Object.values(
      (spec as unknown as { components: { parameters: Record<string, Json> } }).components
        .parameters,
    ).find((p) => p.name === name);
    fixed[param?.["x-vbapi-record-field"] as string] = 77;
    return "77";
  });
  return { ...r, path, record: recordFor(r.entity, fixed) };
});
// Index-based so that counterexamples print a small route description, not the arbitrary.
const routeArb = fc.constantFrom(...routes.keys()).map((i) => {
  const route = routes[i] as (typeof routes)[number];
  return Object.defineProperty({ path: route.path, entity: route.entity }, "record", {
    value: route.record,
    enumerable: false,
  }) as { path: string; entity: string; record: fc.Arbitrary<Json> };
});

type Mutation =
  | "unknown-field"
  | "wrong-type"
  | "too-long"
  | "int32-range"
  | "missing-required"
  | "not-object";

/** Makes one record invalid in a way JSON Schema must reject. */
function mutate(entity: string, record: Json, how: Mutation, pick: number): Json | unknown {
  const schema = spec.components.schemas[entity] as {
    properties: Record<string, PropSchema>;
    required: string[];
  };
  const props = Object.entries(schema.properties);
  const choose = <T>(list: T[]): T | undefined => list[pick % Math.max(1, list.length)];
  switch (how) {
    case "unknown-field":
      return { ...record, [`zz_unknown_${pick}`]: pick };
    case "wrong-type": {
      const [name] = choose(props) as [string, PropSchema];
      return { ...record, [name]: pick % 2 ? { nested: true } : [pick] };
    }
    case "too-long": {
      const entry = choose(props.filter(([, p]) => typeof p.maxLength === "number"));
      if (!entry) return { ...record, zz_unknown: 1 };
      return {
        ...record,
        [entry[0]]: "x".repeat((entry[1].maxLength as number) + 1 + (pick % 50)),
      };
    }
    case "int32-range": {
      const entry = choose(props.filter(([, p]) => p.format === "int32"));
      if (!entry) return { ...record, zz_unknown: 1 };
      return { ...record, [entry[0]]: pick % 2 ? 2 ** 31 + pick : -(2 ** 31) - 1 - pick };
    }
    case "missing-required": {
      const name = choose(schema.required) as string;
      const { [name]: _gone, ...rest } = record;
      return rest;
    }
    case "not-object":
      return choose([1, "s", null, true, [record]]);
  }
}

const MUTATIONS: Mutation[] = [
  "unknown-field",
  "wrong-type",
  "too-long",
  "int32-range",
  "missing-required",
  "not-object",
];

describe("fuzzing with malformed bodies", () => {
  it("answers 400 to text that is not JSON", async () => {
    const notJson = fc
      .oneof(
        fc.string({ unit: "binary" }),
        fc.json().map((t) => `${t.slice(0, Math.max(0, t.length - 1))}\u0000`),
        fc.json().chain((t) => fc.nat(t.length).map((n) => `${t.slice(0, n)}{${t.slice(n)}`)),
      )
      .filter((t) => {
        try {
          JSON.parse(t);
          return false;
        } catch {
          return true;
        }
      });
    await fc.assert(
      fc.asyncProperty(routeArb, notJson, async (route, text) => {
        const res = await put(server, route.path, text);
        expect(res.status).toBe(400);
        expect(res.contentType).toBe("application/problem+json");
        expect(res.json.status).toBe(400);
      }),
      { numRuns: 1000 },
    );
  });

  it("answers 400 to JSON that is not an array", async () => {
    const notArray = fc.jsonValue().filter((v) => !Array.isArray(v));
    await fc.assert(
      fc.asyncProperty(routeArb, notArray, async (route, value) => {
        const res = await put(server, route.path, JSON.stringify(value));
        expect(res.status).toBe(400);
        expect(res.json.detail).toMatch(/^body: must be array/);
      }),
      { numRuns: 1000 },
    );
  });

  it("answers 400 naming the record to batches with one invalid record, storing nothing", async () => {
    const before = server.stats.records;
    await fc.assert(
      fc.asyncProperty(
        routeArb.chain((route) =>
          fc.tuple(
            fc.constant(route),
            fc.array(route.record, { minLength: 1, maxLength: 8 }),
            fc.constantFrom(...MUTATIONS),
            fc.nat(1000),
            fc.nat(),
          ),
        ),
        async ([route, records, how, pick, where]) => {
          const index = where % records.length;
          const batch: unknown[] = [...records];
          batch[index] = mutate(route.entity, records[index] as Json, how, pick);
          const res = await put(server, route.path, batch);
          expect(res.status).toBe(400);
          expect(res.contentType).toBe("application/problem+json");
          expect(res.json.detail).toContain(`record ${index}`);
          expect(res.json.errors.some((e: { record: number }) => e.record === index)).toBe(true);
        },
      ),
      { numRuns: 1500 },
    );
    expect(server.stats.records).toEqual(before);
  });

  it("answers 413 to bodies past the limit", async () => {
    await fc.assert(
      fc.asyncProperty(
        routeArb,
        fc.integer({ min: 256 * 1024 + 1, max: 600 * 1024 }),
        async (route, size) => {
          const res = await put(server, route.path, `${" ".repeat(size - 2)}[]`);
          expect(res.status).toBe(413);
        },
      ),
      { numRuns: 30 },
    );
  });

  it("stores every record of valid generated batches (last write wins)", async () => {
    await fc.assert(
      fc.asyncProperty(
        routeArb.chain((route) =>
          fc.tuple(fc.constant(route), fc.array(route.record, { maxLength: 20 })),
        ),
        fc.uuid(),
        async ([route, records], database) => {
          // What the server receives is the JSON text (e.g. -0 arrives as 0).
          records = JSON.parse(JSON.stringify(records)) as Json[];
          const res = await put(server, route.path, records, { "vbasoftware-database": database });
          expect(res.status).toBe(207);
          const keyFields = spec.components.schemas[route.entity]?.["x-vbapi-key"] as string[];
          const seen = new Map<string, Json>();
          const expected = records.map((r) => {
            const k = JSON.stringify(keyFields.map((f) => r[f]));
            const status = seen.has(k) ? 200 : 201;
            seen.set(k, r);
            return status;
          });
          expect(res.json.data.map((d: { status: number }) => d.status)).toEqual(expected);
          expect(server.store.list(database, route.entity).map((r) => r.body)).toEqual([
            ...seen.values(),
          ]);
        },
      ),
      { numRuns: 400 },
    );
  });

  it("is still alive and never answered 5xx", async () => {
    const stats = server.stats;
    const statuses = Object.keys(stats.byStatus).map(Number);
    expect(statuses.every((s) => s === 207 || s === 400 || s === 413)).toBe(true);
    expect(stats.requests).toBeGreaterThan(3500);
    const res = await put(server, "/tolerances-batch", [{ tolerance_Key: 1, tolerance1: 1 }]);
    expect(res.status).toBe(207);
  });
});
