// The SDK client of a session: the run's target and rate limit, a fetch that counts every
// request and 429, and the SDK's warnings and errors shown as log lines.
import {
  createVbapiClient,
  DEFAULT_RATE_LIMIT,
  type Limiter,
  type Logger,
  type RateLimitOptions,
  type VbapiClient,
} from "@vbapi-sdk/client";
import type { Credentials } from "../auth.ts";
import type { Display } from "../display.ts";
import type { RunConfig } from "../run-dir/config.ts";
import type { Tally } from "./accounting.ts";

/** The `rateLimit` client option for `--rate-limit`. Burst keeps the SDK's proportion. */
export function rateLimitOption(
  value: number | "off" | undefined,
): RateLimitOptions | false | undefined {
  if (value === undefined) return undefined;
  if (value === "off") return false;
  const ratio = DEFAULT_RATE_LIMIT.burst / DEFAULT_RATE_LIMIT.requestsPerSecond;
  return { requestsPerSecond: value, burst: Math.max(1, Math.floor(value * ratio)) };
}

export function sessionClient(options: {
  config: RunConfig;
  credentials: Credentials;
  /** A limiter shared with other processes (`--redis`); default the client's own bucket. */
  limiter: Limiter | undefined;
  tally: Tally;
  display: Display;
}): VbapiClient {
  const { config, tally, display } = options;
  const countingFetch: typeof fetch = async (input, init) => {
    tally.requestSent();
    const response = await fetch(input, init);
    tally.answered(response.status);
    return response;
  };
  const logger: Logger = {
    debug: () => {},
    info: () => {},
    warn: (...args: unknown[]) => display.log(`warning: ${args.map(String).join(" ")}`),
    error: (...args: unknown[]) => display.log(`error: ${args.map(String).join(" ")}`),
  } as Logger;
  return createVbapiClient({
    baseUrl: config.client.baseUrl,
    apiKey: options.credentials.apiKey,
    token: options.credentials.token,
    database: config.client.database,
    rateLimit: rateLimitOption(config.client.rateLimit),
    ...(options.limiter ? { limiter: options.limiter } : {}),
    fetch: countingFetch,
    logger,
  });
}
