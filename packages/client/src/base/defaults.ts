// The SDK's identity and its defaults that every layer may read: the base URL, the answer size
// cap, the User-Agent, and the environment (read without assuming Node).
import pkg from "../../package.json" with { type: "json" };

export const DEFAULT_BASE_URL = "https://vbapi.vbasoftware.com/vbasoftware";
export const SDK_VERSION: string = pkg.version;
/** Default cap on an answer's body: far above any 207 VBA sends for a batch. */
export const DEFAULT_MAX_RESPONSE_BYTES: number = 32 * 1024 * 1024;

/** An environment variable, or undefined when unset or empty (and outside Node). */
export function env(name: string): string | undefined {
  const value = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process
    ?.env?.[name];
  return value === "" ? undefined : value;
}

/** `vbapi-sdk/<version> node/<version>`: VBA answers 403 without a User-Agent. */
export function defaultUserAgent(): string {
  const node = (globalThis as { process?: { versions?: { node?: string } } }).process?.versions
    ?.node;
  return `vbapi-sdk/${SDK_VERSION}${node ? ` node/${node}` : ""}`;
}
