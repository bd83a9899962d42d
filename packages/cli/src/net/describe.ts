// A failure to reach VBA, in words a person can act on: what failed (the name cannot be
// resolved, the connection was refused or timed out, the certificate is not trusted, the proxy
// refused), where (the host, the proxy without its credentials) and what to check. The one
// place the CLI (and `vbapi doctor`) turns a network error into a sentence, from the SDK's one
// table of words (`describeNetworkFailure`); never server text.
import { describeNetworkFailure, type NetworkFailure } from "@vbapi-sdk/client";
import { io } from "../io.ts";
import { proxyFor } from "./proxy.ts";

/** Failures that mean VBA (or the proxy to it) cannot be reached at all from here. */
export function isUnreachable(failure: NetworkFailure): boolean {
  return failure.kind !== "other";
}

/** A failure's words as the proxy's, when the connection to the proxy itself failed. */
function proxyWords(failure: NetworkFailure): string {
  if (failure.kind === "resolve") return `the proxy's ${failure.words}`;
  if (failure.kind === "refused") return `the proxy refused the connection (${failure.code})`;
  if (failure.kind === "timeout" || failure.kind === "unreachable") {
    return `the proxy: ${failure.words}`;
  }
  return failure.words;
}

/**
 * The sentence for a failure to reach `targetUrl`: `cannot reach VBA at <host>[ through the
 * proxy <proxy>]: <words>; <what to check>`. The proxy URL never carries its credentials.
 */
export function unreachableMessage(
  targetUrl: string,
  error: unknown,
  env: NodeJS.ProcessEnv = io().env,
): string {
  const failure = describeNetworkFailure(error);
  let host = "the server";
  try {
    host = new URL(targetUrl).host;
  } catch {}
  const proxy = proxyFor(targetUrl, env);
  const where = proxy ? `${host} through the proxy ${proxy.url}` : host;
  const viaProxy = proxy !== undefined && failure.kind !== "tls" && failure.kind !== "other";
  const words = viaProxy ? proxyWords(failure) : failure.words;
  const check = viaProxy
    ? "check HTTPS_PROXY / HTTP_PROXY and NO_PROXY"
    : failure.kind === "resolve"
      ? "check VBAPI_BASE_URL / --base-url"
      : failure.kind === "tls" && failure.code === "ECONNRESET"
        ? "a firewall may block this host: check whether this network needs a proxy (HTTPS_PROXY)"
        : failure.kind === "tls"
          ? "if a company proxy inspects TLS, set NODE_EXTRA_CA_CERTS to its CA certificate (PEM)"
          : "check VBAPI_BASE_URL / --base-url, and whether this network needs a proxy (HTTPS_PROXY)";
  return `cannot reach VBA at ${where}: ${words}; ${check}`;
}
