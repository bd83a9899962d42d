// Seeded, realistic sample records for the demo and the benchmarks: the same seed gives the
// same records on every run.
import type { EntityName, EntityRecord } from "@vbapi-sdk/client";

/** mulberry32: a tiny, fast, seedable PRNG. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const pick = <T>(r: () => number, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;
const users = ["JMARTIN", "AKHAN", "LNGUYEN", "RPATEL", "SGARCIA", "TOKAFOR"] as const;
const groups = Array.from({ length: 40 }, (_, i) => `GRP${String(417 + i * 13).padStart(5, "0")}`);
const day = (r: () => number, from: number, spanDays: number) =>
  new Date(Date.UTC(2026, 0, 1) + Math.floor((from + r() * spanDays) * 86_400_000)).toISOString();

const subjects = [
  "Call provider office about missing itemized bill",
  "Review high-dollar claim before release",
  "Follow up on coordination of benefits questionnaire",
  "Confirm stop-loss notification was filed",
  "Verify member eligibility after retro termination",
  "Request operative report for surgical claim",
] as const;

export function* events(count: number, seed = 1, firstId = 1): Generator<EntityRecord<"Event">> {
  const r = rng(seed);
  for (let i = 0; i < count; i++) {
    const audit = r() < 0.2;
    const user = pick(r, users);
    yield {
      event_ID: firstId + i,
      claim_Audit_Event: audit,
      process_Automation_Event: !audit && r() < 0.1,
      reminder: r() < 0.6,
      due_Date: day(r, 320, 60),
      start_Date: day(r, 300, 20),
      completion_Percent: Math.round(r() * 4) * 25,
      event_Type: audit ? "AUDIT" : pick(r, ["FOLLOWUP", "REMINDER", "TASK"] as const),
      priority: pick(r, ["LOW", "NORMAL", "HIGH"] as const),
      status: "OPEN",
      subject: pick(r, subjects),
      user_ID: user,
      userGroup_Key: 1 + Math.floor(r() * 20),
      entry_User: user,
    };
  }
}

export function* tolerances(count: number, seed = 2): Generator<EntityRecord<"Tolerance">> {
  const r = rng(seed);
  for (let i = 0; i < count; i++) {
    yield {
      tolerance_Key: 300 + i,
      tolerance1: Math.round(r() * 500) / 100,
      group_ID: pick(r, groups),
      payment_Method: pick(r, ["ACH", "CHECK", "CARD", "LOCKBOX"] as const),
      entry_User: "BILLING01",
    };
  }
}

export function* claimPromptPays(
  count: number,
  seed = 3,
): Generator<EntityRecord<"ClaimPromptPay">> {
  const r = rng(seed);
  for (let i = 0; i < count; i++) {
    const type = pick(r, ["D", "D", "D", "M"] as const);
    yield {
      claimPromptPay_Key: 1200 + i,
      division_ID: pick(r, ["EAST", "WEST", "CENTRAL"] as const),
      group_ID: pick(r, groups),
      plan_ID: pick(r, ["PPO-GOLD", "PPO-SILVER", "HMO-SILVER", "HDHP-BRONZE"] as const),
      prompt_Pay_Duration: type === "D" ? pick(r, [15, 30, 45] as const) : 1,
      prompt_Pay_Duration_Type: type,
      tax_ID: String(100_000_000 + Math.floor(r() * 899_999_999)),
      entry_User: "CLAIMSCFG",
    };
  }
}

export function* armorCodeExCodes(
  count: number,
  seed = 4,
): Generator<EntityRecord<"ArmorCodeExCode">> {
  const r = rng(seed);
  for (let i = 0; i < count; i++) {
    yield {
      armorCodeExCode_Key: 70 + i,
      armor_Code: `A${String(1000 + i).padStart(4, "0")}`,
      ex_Code: `EX${Math.floor(r() * 999)}`,
      entry_User: "CLAIMSCFG",
    };
  }
}

export function* providerCredServices(
  providerCredKey: number,
  count: number,
  seed = 5,
): Generator<EntityRecord<"ProviderCredService">> {
  const r = rng(seed + providerCredKey);
  for (let i = 0; i < count; i++) {
    yield {
      providerCred_Key: providerCredKey,
      credService_Key: i + 1,
      percentage: Math.floor(r() * 101),
      entry_User: "CREDENT01",
    };
  }
}

/** Sample records of every entity, with the path parameters an entity's batch needs. */
export const sampleBatches: {
  [E in EntityName]: { records(count: number): Iterable<EntityRecord<E>>; pathParams?: object };
} = {
  ArmorCodeExCode: { records: (n) => armorCodeExCodes(n) },
  ClaimPromptPay: { records: (n) => claimPromptPays(n) },
  Event: { records: (n) => events(n) },
  ProviderCredService: {
    records: (n) => providerCredServices(5021, n),
    pathParams: { providerCredKey: 5021 },
  },
  Tolerance: { records: (n) => tolerances(n) },
};
