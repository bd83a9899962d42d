// 5. Validation: records per second through the generated validators (validateRecords), per
// entity, on a mix of 90 % valid and 10 % invalid records (a wrong-typed key, an unknown field, a
// missing key field: one of the three per invalid record, in turn). Each pass must report exactly
// the invalid records, or the benchmark fails.
//
// Target: <= 0.5 µs per record (>= 2,000,000 records/s) for every entity. Reasoning: the naive
// loop's whole client CPU per record (serialize, send, parse the 207) is ~4-6 µs here (see the
// bulk figure), and issue 12 allows the SDK 1.3x that in total; validation may take at most
// about a third of that allowance, i.e. ~10 % of the naive cost.
import { type EntityName, entities, entityNames, validateRecords } from "@vbapi-sdk/client";
import { sampleBatches } from "@vbapi-sdk/tool-demo/sample-data.ts";
import { type BenchResult, type Row, verdict } from "./report.ts";
import { fmt, meanCI, round } from "./stats.ts";

const BATCH = 10_000;
const INVALID_EVERY = 10; // 10 % invalid
const TARGET_PER_SECOND = 2_000_000;

/** Makes record `i` invalid in one of three ways, generically from the entity's key fields. */
function spoil(entity: EntityName, record: Record<string, unknown>, i: number): void {
  const key = entities[entity].keys[0] as string;
  switch ((i / INVALID_EVERY) % 3) {
    case 0:
      record[key] = typeof record[key] === "number" ? "not-a-number" : 12345;
      return;
    case 1:
      record.unexpected_Field = true;
      return;
    default:
      delete record[key];
  }
}

function mix(entity: EntityName, records: Record<string, unknown>[]) {
  const invalid = new Set<number>();
  records.forEach((r, i) => {
    if (i % INVALID_EVERY === 0) {
      spoil(entity, r, i);
      invalid.add(i);
    }
  });
  return { records, invalid };
}

const samples = Object.fromEntries(
  entityNames.map((entity) => {
    const { records, pathParams } = sampleBatches[entity];
    return [entity, { ...mix(entity, [...records(BATCH)] as never), pathParams }];
  }),
) as Record<EntityName, { records: unknown[]; invalid: Set<number>; pathParams?: object }>;

/** Checks that one pass flags exactly the spoiled records. */
function check(entity: EntityName): void {
  const { records, invalid, pathParams } = samples[entity];
  const flagged = new Set(
    validateRecords(entity, records, pathParams as never).map((i) => i.index),
  );
  for (const i of invalid)
    if (!flagged.has(i)) throw new Error(`validation: ${entity} record ${i} is invalid but passed`);
  for (const i of flagged)
    if (!invalid.has(i))
      throw new Error(`validation: ${entity} record ${i} is valid but was flagged`);
}

/** Validates the batch over and over for `ms`; returns records per second. */
function rate(entity: EntityName, ms: number): number {
  const { records, invalid, pathParams } = samples[entity];
  let n = 0;
  let issues = 0;
  const t0 = performance.now();
  let elapsed = 0;
  while (elapsed < ms) {
    issues += validateRecords(entity, records, pathParams as never).length;
    n += records.length;
    elapsed = performance.now() - t0;
  }
  if (issues < (invalid.size * n) / records.length)
    throw new Error(`validation: ${entity} missed issues`);
  return (n / elapsed) * 1000;
}

export async function validation({ quick }: { quick: boolean }): Promise<BenchResult> {
  const sliceMs = quick ? 20 : 200;
  const slices = quick ? 3 : 8;
  const figures: Record<string, unknown> = {};
  const rows: Row[] = [];
  const notes: string[] = [];
  for (const entity of Object.keys(samples) as EntityName[]) {
    check(entity);
    rate(entity, sliceMs); // warm-up
    const ci = meanCI(Array.from({ length: slices }, () => rate(entity, sliceMs)));
    figures[entity] = { mean: round(ci.mean, 0), low: round(ci.low, 0), high: round(ci.high, 0) };
    const ok = ci.low >= TARGET_PER_SECOND;
    rows.push({
      section: "validation, 90% valid / 10% invalid",
      figure: `${entity} records/s [95% CI]`,
      value: `${fmt.rate(ci.mean)} [${fmt.int(ci.low)}, ${fmt.int(ci.high)}] = ${(1e9 / ci.mean).toFixed(0)} ns/record`,
      target: `>= ${fmt.int(TARGET_PER_SECOND)}/s (lower bound)`,
      verdict: verdict(ok),
    });
    if (!ok)
      notes.push(
        `validation: ${entity} validates ${fmt.rate(ci.mean)} on the 90/10 mix (target ${fmt.rate(TARGET_PER_SECOND)} on the CI's lower bound).`,
      );
  }
  return {
    name: "validation",
    figures: { recordsPerSecond: figures, batchSize: BATCH, invalidShare: 1 / INVALID_EVERY },
    rows,
    notes,
  };
}
