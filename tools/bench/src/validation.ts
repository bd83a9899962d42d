// 5. Validation: records per second through the generated validators (validateRecords), per entity.
import { type EntityName, validateRecords } from "@vbapi-sdk/client";
import {
  armorCodeExCodes,
  claimPromptPays,
  events,
  providerCredServices,
  tolerances,
} from "@vbapi-sdk/tool-demo/sample-data.ts";
import { type BenchResult, type Row, verdict } from "./report.ts";
import { fmt, median, round } from "./stats.ts";

const BATCH = 10_000;
const TARGET = 1_000_000;

const samples: Record<
  EntityName,
  { records: unknown[]; pathParams?: { providerCredKey: number } }
> = {
  ArmorCodeExCode: { records: [...armorCodeExCodes(BATCH)] },
  ClaimPromptPay: { records: [...claimPromptPays(BATCH)] },
  Event: { records: [...events(BATCH)] },
  ProviderCredService: {
    records: [...providerCredServices(5021, BATCH)],
    pathParams: { providerCredKey: 5021 },
  },
  Tolerance: { records: [...tolerances(BATCH)] },
};

/** Validates the batch over and over for `ms`; returns records per second. */
function rate(entity: EntityName, ms: number): number {
  const { records, pathParams } = samples[entity];
  let n = 0;
  const t0 = performance.now();
  let elapsed = 0;
  while (elapsed < ms) {
    const issues = validateRecords(entity, records, pathParams as never);
    if (issues.length > 0)
      throw new Error(`validation: ${entity} sample is invalid: ${issues[0]?.message}`);
    n += records.length;
    elapsed = performance.now() - t0;
  }
  return (n / elapsed) * 1000;
}

export async function validation({ quick }: { quick: boolean }): Promise<BenchResult> {
  const sliceMs = quick ? 20 : 200;
  const figures: Record<string, number> = {};
  const rows: Row[] = [];
  for (const entity of Object.keys(samples) as EntityName[]) {
    rate(entity, sliceMs); // warm-up
    const perSecond = median(Array.from({ length: 5 }, () => rate(entity, sliceMs)));
    figures[entity] = round(perSecond, 0);
    const tolerance = entity === "Tolerance";
    rows.push({
      section: "validation (records/s)",
      figure: entity,
      value: fmt.rate(perSecond),
      ...(tolerance
        ? { target: `> ${fmt.int(TARGET)}/s`, verdict: verdict(perSecond > TARGET) }
        : {}),
    });
  }
  return { name: "validation", figures: { recordsPerSecond: figures, batchSize: BATCH }, rows };
}
