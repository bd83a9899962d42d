// `vbapi doctor`: checks, in order, everything a first call needs (configuration, reaching
// VBA, the clock, the login, the batch endpoints) and says for each what it saw and what to
// do. Exit 0 when everything a load needs passed, 1 otherwise, 2 for usage errors. The checks
// (and node:tls, node:net, node:dns they use) are loaded when the doctor runs, not by every
// command.
import { defaults } from "@vbapi-sdk/client";
import { type Command, Option } from "commander";
import { CREDENTIAL_HELP } from "../auth.ts";
import { io, setExitCode } from "../io.ts";
import { networkFetch, proxyFor } from "../net/proxy.ts";
import { positiveInt, UsageError } from "./args.ts";
import { baseUrlOf } from "./upsert.ts";

interface DoctorFlags {
  baseUrl?: string;
  database?: string;
  json?: boolean;
  probe: boolean;
  timeoutMs: number;
}

export async function doctor(flags: DoctorFlags): Promise<number> {
  const env = io().env;
  const baseUrl = baseUrlOf(flags.baseUrl);
  let fetchFn: typeof fetch;
  try {
    fetchFn = networkFetch(env);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const [{ runDoctor }, { renderJson, renderText, scrub, secretsOf }] = await Promise.all([
    import("../doctor/run.ts"),
    import("../doctor/render.ts"),
  ]);
  const report = await runDoctor({
    baseUrl,
    database: flags.database ?? (env.VBAPI_DATABASE || undefined),
    env,
    fetch: fetchFn,
    proxy: proxyFor(baseUrl, env),
    timeoutMs: flags.timeoutMs,
    probe: flags.probe,
  });
  const text = flags.json ? renderJson(report) : renderText(report);
  io().stdout.write(scrub(text, secretsOf(env)));
  return report.ok ? 0 : 1;
}

export function addDoctorCommand(program: Command): void {
  program
    .command("doctor")
    .description("check, in order, everything a first load needs, and say what to fix")
    .option("--base-url <url>", `API base URL (env VBAPI_BASE_URL; default ${defaults.baseUrl})`)
    .option(
      "--database <name>",
      "target database, the vbasoftware-database header (env VBAPI_DATABASE)",
    )
    .option(
      "--json",
      "one JSON document on stdout (checks, verdicts, times, ASSUMED facts) instead of the checklist",
    )
    .option(
      "--no-probe",
      "skip the batch probe (one PUT per entity with a malformed body, which VBA refuses and nothing is written)",
    )
    .addOption(
      new Option("--timeout-ms <n>", "longest wait for each network step, in ms")
        .argParser(positiveInt("--timeout-ms"))
        .default(10_000),
    )
    .addHelpText(
      "after",
      `\nChecks, in order: config (variable names set, never values; base URL, database, proxy,\nNode), dns, connect, tls (through a proxy: the proxy's dns and connect), http (one GET of the\nbase URL), clock (the server's Date against this machine's; over a minute is a warning),\nlogin (one POST /user-authentication, or the VBAPI_TOKEN given), probe <Entity> (one PUT per\nentity whose body is {}, not an array: 400 means credentials, User-Agent and database were\naccepted; nothing is written). Then the spec's ASSUMED facts as confirmed / contradicted /\nnot seen.\n\n${CREDENTIAL_HELP}\n\nExit codes:\n  0    everything a load needs passed (warnings allowed)\n  1    a check a load needs failed (see its [FAIL] line and the -> line under it)\n  2    usage error\n\nExamples:\n  vbapi doctor --database MYDB\n  vbapi doctor --json --no-probe`,
    )
    .action(async (flags: DoctorFlags) => {
      setExitCode(await doctor(flags));
    });
}
