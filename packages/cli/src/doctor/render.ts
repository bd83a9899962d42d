// The doctor's report: a checklist for a person, or one JSON document for tools. Everything
// printed passes through terminalText (server text, host names, certificate issuers) and then
// through `scrub`, which blanks any secret of the environment that might have slipped in.
import { safeJson, terminalText } from "../safe-text.ts";
import type { FactReport } from "./assumed.ts";
import type { Check } from "./types.ts";

export interface DoctorReport {
  ok: boolean;
  baseUrl: string;
  checks: Check[];
  assumed: FactReport[];
}

const MARK: Record<Check["verdict"], string> = {
  pass: "[ok]  ",
  warn: "[warn]",
  fail: "[FAIL]",
  skip: "[skip]",
};

/** The values that must never be printed: the API key, token, password, Redis URL, and proxy URLs' user:password. */
export function secretsOf(env: NodeJS.ProcessEnv): string[] {
  const values = ["VBAPI_API_KEY", "VBAPI_TOKEN", "VBAPI_PASSWORD", "VBAPI_REDIS_URL"].map(
    (n) => env[n],
  );
  for (const name of ["HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"]) {
    const match = env[name]?.match(/\/\/([^/@]*)@/);
    if (match?.[1]) values.push(match[1], ...match[1].split(":"));
  }
  // A very short value would blank ordinary words: 4 characters at least.
  return [
    ...new Set(values.filter((v): v is string => typeof v === "string" && v.length >= 4)),
  ].sort((a, b) => b.length - a.length);
}

export function scrub(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) out = out.split(secret).join("***");
  return out;
}

export function renderText(report: DoctorReport): string {
  const lines = [`vbapi doctor: ${terminalText(report.baseUrl)}`];
  for (const check of report.checks) {
    const ms = check.ms === undefined ? "" : ` (${check.ms} ms)`;
    lines.push(`${MARK[check.verdict]} ${check.id}: ${terminalText(check.saw)}${ms}`);
    if (check.fix && check.verdict !== "pass") lines.push(`       -> ${terminalText(check.fix)}`);
  }
  lines.push("", "The spec's ASSUMED facts, as this server answered (tell us what your VBA does):");
  for (const fact of report.assumed) {
    lines.push(`  ${fact.verdict.padEnd(12)} ${fact.id}: ${fact.says} (${terminalText(fact.saw)})`);
  }
  lines.push(
    "",
    report.ok
      ? "Everything a load needs passed."
      : "Something a load needs failed: see the [FAIL] lines above.",
  );
  return `${lines.join("\n")}\n`;
}

export function renderJson(report: DoctorReport): string {
  return `${safeJson(report, 2)}\n`;
}
