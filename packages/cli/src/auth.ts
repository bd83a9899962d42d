// Credentials come from the environment only (command-line arguments show in `ps`), in the
// variables the client itself reads. This is the ONE place the CLI resolves them.
import type { TokenProvider } from "@vbapi-sdk/client";

export interface Credentials {
  apiKey: string;
  token: TokenProvider;
}

export const CREDENTIAL_HELP = `Credentials (environment only, never flags):
  VBAPI_API_KEY     VBA API key (sent as x-api-key)
  VBAPI_TOKEN       bearer token (VBA's idToken)`;

/**
 * The API key and token from the environment, or a message naming what is missing.
 *
 * LOGIN PLUG-IN POINT (issue 13): when VBAPI_TOKEN is unset and the login variables are set,
 * return `token: passwordLogin({ ..., cache: new FileTokenCache() })` here (the token provider
 * from @vbapi-sdk/client; FileTokenCache is ./token-cache.ts, which implements its TokenCache).
 * Nothing else in the CLI changes: the client calls the provider and refreshes it on a 401.
 */
export function credentialsFromEnv(
  env: NodeJS.ProcessEnv = process.env,
): Credentials | { missing: string } {
  const apiKey = env.VBAPI_API_KEY;
  const token = env.VBAPI_TOKEN;
  const missing = [...(apiKey ? [] : ["VBAPI_API_KEY"]), ...(token ? [] : ["VBAPI_TOKEN"])];
  if (missing.length > 0 || !apiKey || !token) {
    return {
      missing: `set ${missing.join(" and ")} in the environment (credentials are never taken from flags)`,
    };
  }
  return { apiKey, token };
}
