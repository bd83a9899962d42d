// The SDK client of a session: the run's target and rate limit, a fetch that honours the proxy
// variables and counts every request and 429, and the SDK's warnings and errors shown as log lines.
import {
  createVbapiClient,
  defaults,
  type Limiter,
  type Logger,
  type RateLimitOptions,
  type VbapiClient,
} from "@vbapi-sdk/client";
import type { Credentials } from "../auth.ts";
import type { Display } from "../display.ts";
import { log } from "../log-format.ts";
import { networkFetch } from "../net/proxy.ts";
import { reachability } from "../net/reach.ts";
import type { RunConfig } from "../run-dir/config.ts";
import type { SettledRequest } from "../run-dir/journal.ts";
import { telemetryOptions } from "../telemetry/run.ts";
import type { Tally } from "./accounting.ts";
import { timedFetch } from "./request-times.ts";

/** The `rateLimit` client option for `--rate-limit`. Burst keeps the SDK's proportion. */
export function rateLimitOption(
  value: number | "off" | undefined,
): RateLimitOptions | false | undefined {
  if (value === undefined) return undefined;
  if (value === "off") return false;
  const ratio = defaults.rateLimit.burst / defaults.rateLimit.requestsPerSecond;
  return { requestsPerSecond: value, burst: Math.max(1, Math.floor(value * ratio)) };
}

export function sessionClient(options: {
  config: RunConfig;
  credentials: Credentials;
  /** A limiter shared with other processes (`--redis`); default the client's own bucket. */
  limiter: Limiter | undefined;
  tally: Tally;
  display: Display;
  /** Each HTTP request as it settles (the journal's timeline). */
  onSettled?: (request: SettledRequest) => void;
  /** Called once, at the first HTTP answer; what it throws is not the request's failure. */
  onFirstAnswer?: (() => void) | undefined;
}): VbapiClient {
  const { config, tally, display } = options;
  // Through the proxy the environment names, watched for a VBA that cannot be reached.
  const network = reachability.watch(networkFetch());
  let firstAnswer = options.onFirstAnswer;
  const countingFetch: typeof fetch = async (input, init) => {
    tally.requestSent();
    const response = await network(input, init);
    tally.answered(response.status);
    if (firstAnswer) {
      const call = firstAnswer;
      firstAnswer = undefined;
      try {
        call();
      } catch (error) {
        display.log(`${(error as Error).message}`, "warn");
      }
    }
    return response;
  };
  const logger: Logger = {
    debug: () => {},
    // Info (a token refresh after a 401) goes to JSON logs only; the terminal shows as before.
    info: (...args: unknown[]) => log("info", args.map(String).join(" "), { text: false }),
    warn: (...args: unknown[]) => display.log(args.map(String).join(" "), "warn"),
    error: (...args: unknown[]) => display.log(args.map(String).join(" "), "error"),
  } as Logger;
  return createVbapiClient({
    baseUrl: config.client.baseUrl,
    apiKey: options.credentials.apiKey,
    token: options.credentials.token,
    database: config.client.database,
    rateLimit: rateLimitOption(config.client.rateLimit),
    ...(options.limiter ? { limiter: options.limiter } : {}),
    fetch: options.onSettled ? timedFetch(countingFetch, options.onSettled) : countingFetch,
    logger,
    logLevel: "info",
    // This run's OpenTelemetry providers (spans and metrics under the run's root span), or off.
    ...telemetryOptions(),
  });
}
