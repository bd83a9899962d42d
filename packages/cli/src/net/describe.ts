// A failure to reach VBA, in words a person can act on: what failed (the name cannot be
// resolved, the connection was refused or timed out, the certificate is not trusted, the proxy
// refused), where (the host, the proxy without its credentials) and what to check. The one
// place the CLI (and `vbapi doctor`) turns a network error into a sentence; never server text.
import { proxyFor } from "./proxy.ts";

export type NetworkFailureKind =
  | "resolve"
  | "refused"
  | "timeout"
  | "unreachable"
  | "tls"
  | "proxy"
  | "other";

export interface NetworkFailure {
  kind: NetworkFailureKind;
  /** The low-level code (ENOTFOUND, ECONNREFUSED, CERT_HAS_EXPIRED...), when there is one. */
  code?: string;
  /** What failed, in words, ending with the code or status in parentheses. */
  words: string;
}

const KINDS: Record<string, [NetworkFailureKind, string]> = {
  ENOTFOUND: ["resolve", "the host name cannot be resolved"],
  EAI_AGAIN: ["resolve", "the host name cannot be resolved: the DNS lookup failed"],
  EAI_FAIL: ["resolve", "the host name cannot be resolved"],
  EAI_NONAME: ["resolve", "the host name cannot be resolved"],
  ECONNREFUSED: ["refused", "the connection was refused"],
  EHOSTUNREACH: ["unreachable", "the host is unreachable"],
  ENETUNREACH: ["unreachable", "the network is unreachable"],
  ETIMEDOUT: ["timeout", "the connection timed out"],
  UND_ERR_CONNECT_TIMEOUT: ["timeout", "the connection timed out"],
  CERT_HAS_EXPIRED: ["tls", "the certificate has expired"],
  CERT_NOT_YET_VALID: ["tls", "the certificate is not valid yet"],
  ERR_TLS_CERT_ALTNAME_INVALID: ["tls", "the certificate does not name this host"],
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: ["tls", "the certificate is not trusted"],
  UNABLE_TO_GET_ISSUER_CERT: ["tls", "the certificate is not trusted"],
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: ["tls", "the certificate is not trusted"],
  SELF_SIGNED_CERT_IN_CHAIN: ["tls", "the certificate is not trusted (self-signed in the chain)"],
  DEPTH_ZERO_SELF_SIGNED_CERT: ["tls", "the certificate is not trusted (self-signed)"],
  CERT_UNTRUSTED: ["tls", "the certificate is not trusted"],
  CERT_REVOKED: ["tls", "the certificate has been revoked"],
  ERR_SSL_WRONG_VERSION_NUMBER: ["tls", "TLS could not be negotiated (is it an http:// server?)"],
};

const PROXY_STATUS_TEXT: Record<number, string> = {
  401: "Unauthorized",
  403: "Forbidden",
  407: "Proxy Authentication Required",
  500: "Internal Server Error",
  502: "Bad Gateway",
  503: "Service Unavailable",
  504: "Gateway Timeout",
};

/** The error and its causes (and AggregateError's first), at most 6 deep. */
function chain(error: unknown): unknown[] {
  const out: unknown[] = [];
  for (let e: unknown = error; e && out.length < 6; ) {
    out.push(e);
    const inner = (e as { errors?: unknown[] }).errors;
    e = Array.isArray(inner) && inner.length > 0 ? inner[0] : (e as { cause?: unknown }).cause;
  }
  return out;
}

/** What `error` (a rejected fetch, or an SDK error whose cause is one) says about the network. */
export function describeNetworkError(error: unknown): NetworkFailure {
  const links = chain(error);
  for (const e of links) {
    const message = (e as { message?: unknown }).message;
    const proxy =
      typeof message === "string"
        ? /Proxy response \((\d{3})\) !== 200|Proxy Authentication Required \((407)\)/.exec(message)
        : null;
    if (proxy) {
      const status = Number(proxy[1] ?? proxy[2]);
      const text = PROXY_STATUS_TEXT[status];
      return {
        kind: "proxy",
        words: `the proxy refused the connection (HTTP ${status}${text ? ` ${text}` : ""})`,
      };
    }
  }
  for (const e of links) {
    const code = (e as { code?: unknown }).code;
    if (typeof code !== "string" || code === "") continue;
    const known = KINDS[code];
    if (known) return { kind: known[0], code, words: `${known[1]} (${code})` };
    if (/CERT|TLS|SSL/.test(code)) {
      return { kind: "tls", code, words: `the certificate is not trusted (${code})` };
    }
    return { kind: "other", code, words: `the connection failed (${code})` };
  }
  const name = links.find((e) => e instanceof Error && e.name === "TimeoutError");
  if (name) return { kind: "timeout", words: "no answer in time" };
  return { kind: "other", words: "the connection failed" };
}

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
  env: NodeJS.ProcessEnv = process.env,
): string {
  const failure = describeNetworkError(error);
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
      : failure.kind === "tls"
        ? "if a company proxy inspects TLS, set NODE_EXTRA_CA_CERTS to its CA certificate (PEM)"
        : "check VBAPI_BASE_URL / --base-url, and whether this network needs a proxy (HTTPS_PROXY)";
  return `cannot reach VBA at ${where}: ${words}; ${check}`;
}
