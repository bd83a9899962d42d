// `vbapi doctor`'s checks in order: configuration, reaching VBA, HTTP and the clock, the
// login, the batch probe; then the ASSUMED facts. A needed check that fails skips the ones
// that depend on it, each saying why.
import { CLI_VERSION } from "../version.ts";
import { judgeFacts } from "./assumed.ts";
import { httpAndClockChecks } from "./clock.ts";
import { configCheck } from "./config.ts";
import { knownSecrets } from "./http.ts";
import { loginCheck } from "./login.ts";
import { probeChecks } from "./probe.ts";
import { reachChecks } from "./reach.ts";
import { type DoctorReport, rememberSecrets } from "./render.ts";
import type { Check, DoctorContext } from "./types.ts";

export interface DoctorOptions {
  baseUrl: string;
  database: string | undefined;
  env: NodeJS.ProcessEnv;
  fetch: typeof fetch;
  proxy: { url: string } | undefined;
  timeoutMs: number;
  probe: boolean;
}

const failed = (checks: readonly Check[]) => checks.some((c) => c.verdict === "fail");

export async function runDoctor(options: DoctorOptions): Promise<DoctorReport> {
  const ctx: DoctorContext = {
    ...options,
    userAgent: `vbapi-cli/${CLI_VERSION} (doctor)`,
    answers: [],
    token: undefined,
    loginRefusal: undefined,
  };
  const checks: Check[] = [configCheck(ctx)];
  const skip = (ids: string[], why: string) => {
    for (const id of ids) checks.push({ id, verdict: "skip", saw: `not run: ${why}` });
  };
  const reach = await reachChecks(ctx);
  checks.push(...reach);
  if (failed(reach)) {
    skip(["http", "clock", "login", "probe"], "the server was not reached");
  } else {
    const http = await httpAndClockChecks(ctx);
    checks.push(...http);
    if (failed(http)) skip(["login", "probe"], "the server did not answer over HTTP");
    else if (failed(checks.slice(0, 1)))
      skip(["login", "probe"], "the configuration is incomplete");
    else {
      const login = await loginCheck(ctx);
      checks.push(login);
      if (login.verdict === "fail") skip(["probe"], "no token");
      else if (!options.probe) skip(["probe"], "--no-probe");
      else checks.push(...(await probeChecks(ctx)));
    }
  }
  const report: DoctorReport = {
    ok: !failed(checks),
    baseUrl: options.baseUrl,
    checks,
    assumed: judgeFacts(ctx.answers),
  };
  rememberSecrets(report, knownSecrets(ctx));
  return report;
}
