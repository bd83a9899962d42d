// Credentials come from the environment only (command-line arguments show in `ps`), in the
// variables the client itself reads. This is the ONE place the CLI resolves them.
import { passwordLogin, type TokenCache, type TokenProvider } from "@vbapi-sdk/client";
import { io, runEnd } from "./io.ts";
import { log } from "./log-format.ts";
import { networkFetch } from "./net/proxy.ts";
import { reachability } from "./net/reach.ts";
import { telemetryOptions } from "./telemetry/run.ts";
import { FileTokenCache } from "./token-cache.ts";

export interface Credentials {
  apiKey: string;
  token: TokenProvider;
}

export const CREDENTIAL_HELP = `Credentials (environment only, never flags):
  VBAPI_API_KEY     VBA API key (sent as x-api-key)
  VBAPI_TOKEN       a bearer token (VBA's idToken); or, to log in:
  VBAPI_USERNAME, VBAPI_PASSWORD, VBAPI_CLIENT_ID, VBAPI_CLIENT_CODE
                    the CLI logs in once (POST /user-authentication) and keeps the ID token
                    in ~/.cache/vbapi (0600) until shortly before it expires; with --redis,
                    in Redis, shared by every process using the same API key
  VBAPI_REDIS_URL   same as --redis <url> (may hold a password: keep it out of flags)
Network: HTTPS_PROXY, HTTP_PROXY, NO_PROXY (either case) are honoured; NODE_EXTRA_CA_CERTS
  adds a company CA (PEM). When VBA cannot be reached, the run stops at once: exit 2, resumable`;

const LOGIN = ["VBAPI_USERNAME", "VBAPI_PASSWORD", "VBAPI_CLIENT_ID", "VBAPI_CLIENT_CODE"] as const;

/**
 * The login's requests: through the proxy the environment names (HTTPS_PROXY...), watched for
 * a VBA that cannot be reached, each a log line for JSON logs (the terminal shows as before).
 */
const loggedLoginFetch: typeof fetch = async (input, init) => {
  const response = await reachability.watch(networkFetch())(input, init);
  if (response.ok) log("info", "logged in (POST /user-authentication)", { text: false });
  else log("warn", `the login was answered HTTP ${response.status}`, { text: false });
  return response;
};

/** The run's file cache: its locks go when the run ends (its login is aborted then too). */
function runCache(): FileTokenCache {
  const cache = new FileTokenCache();
  runEnd().addEventListener("abort", () => cache.releaseLocks(), { once: true });
  return cache;
}

/**
 * The API key and token from the environment, or a message naming what is missing. Without
 * VBAPI_TOKEN, the four login variables make a token provider that logs in (once) for
 * `target`'s base URL and database, with its token kept in `cache` (default: a file).
 */
export function credentialsFromEnv(
  target: { baseUrl: string; database: string; cache?: TokenCache },
  env: NodeJS.ProcessEnv = io().env,
): Credentials | { missing: string } {
  const apiKey = env.VBAPI_API_KEY;
  const token = env.VBAPI_TOKEN;
  const login = LOGIN.every((name) => env[name]);
  const missing = [
    ...(apiKey ? [] : ["VBAPI_API_KEY"]),
    ...(token || login
      ? []
      : [
          "VBAPI_TOKEN (or the login variables: VBAPI_USERNAME, VBAPI_PASSWORD, VBAPI_CLIENT_ID, VBAPI_CLIENT_CODE)",
        ]),
  ];
  if (missing.length > 0 || !apiKey) {
    return {
      missing: `set ${missing.join(" and ")} in the environment (credentials are never taken from flags)`,
    };
  }
  if (token) return { apiKey, token };
  return {
    apiKey,
    token: passwordLogin({
      username: env.VBAPI_USERNAME,
      password: env.VBAPI_PASSWORD,
      clientId: env.VBAPI_CLIENT_ID,
      clientCode: env.VBAPI_CLIENT_CODE,
      apiKey,
      baseUrl: target.baseUrl,
      database: target.database,
      cache: target.cache ?? runCache(),
      fetch: loggedLoginFetch,
      // A login the run no longer waits for (it stopped at once) ends with the run, lock freed.
      signal: runEnd(),
      // The login's span and vbapi.logins, with the run's telemetry (or off).
      ...telemetryOptions(),
    }),
  };
}
