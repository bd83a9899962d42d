// The doctor's report: a checklist for a person, or one JSON document for tools. Everything
// printed passes through terminalText (server text, host names, certificate issuers) and then
// through `scrub`, which blanks, in every escaped form, any secret that slipped past the scrub
// of server text in http.ts: the environment's, and the token the doctor's login received.
import { safeJson, terminalText } from "../safe-text.ts";
import type { FactReport } from "./assumed.ts";
import { scrub } from "./secrets.ts";
import type { Check } from "./types.ts";

/** The command's last scrub of the output uses these (with the environment's secrets). */
export { scrub, secretsOf } from "./secrets.ts";

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

/** The secrets a report's run knew: the environment's and the login's ID token. */
const runSecrets = new WeakMap<DoctorReport, readonly string[]>();

export function rememberSecrets(report: DoctorReport, secrets: readonly string[]): void {
  runSecrets.set(report, secrets);
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
  return scrub(`${lines.join("\n")}\n`, runSecrets.get(report) ?? []);
}

export function renderJson(report: DoctorReport): string {
  return scrub(`${safeJson(report, 2)}\n`, runSecrets.get(report) ?? []);
}
