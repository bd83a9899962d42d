// How a rejected fetch failed: before anything was sent (safe to retry, not applied), a request
// that could not be built at all, a timeout, or a connection lost after sending (maybe applied).

/** Low-level error codes that mean the request never left the machine (safe to retry, not applied). */
const NOT_SENT_CODES = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EAI_FAIL",
  "EAI_NONAME",
  "ENETUNREACH",
  "EHOSTUNREACH",
  "UND_ERR_CONNECT_TIMEOUT",
]);
/** A proxy that answered its CONNECT with something else than 200: the request never left. */
const PROXY_REFUSAL = /Proxy response \((\d{3})\) !== 200|Proxy Authentication Required \((407)\)/;
/** Node's words for a TLS handshake cut off (ECONNRESET): no request byte was sent yet. */
const TLS_CUT_OFF = /before secure TLS connection was established/;
/**
 * The tunnel phase failed (the CLI's proxy dispatcher wraps undici's error on the CONNECT
 * request so): the proxy closed or did not answer before any byte went to the server.
 */
const PROXY_TUNNEL = /^Proxy tunnel failed\b/;
/** Causes that mean the request could not be built at all: not sent, and resending cannot help. */
const SETUP_CODES = new Set(["ERR_INVALID_URL", "UND_ERR_INVALID_ARG", "UND_ERR_NOT_SUPPORTED"]);
const SETUP_MESSAGES =
  /unknown scheme|not implemented|bad port|invalid header|failed to parse url/i;

export function errorCode(error: unknown): string | undefined {
  return codeHolder(error)?.code;
}

/** The error in the chain that carries the first string `code` (see errorCode). */
function codeHolder(error: unknown): { code: string; syscall?: unknown } | undefined {
  for (let e: unknown = error, depth = 0; e && depth < 5; depth++) {
    if (typeof (e as { code?: unknown }).code === "string") return e as { code: string };
    const inner = (e as { errors?: unknown[] }).errors;
    if (Array.isArray(inner) && inner.length > 0) {
      e = inner[0];
      continue;
    }
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

export type FailureKind = "timeout" | "setup" | "not-sent" | "connection";

/** How a rejected fetch failed: before sending (setup, not-sent) or possibly after (connection). */
export function failureKind(error: unknown, timedOut: boolean): FailureKind {
  if (timedOut) return "timeout";
  const code = errorCode(error);
  if (code !== undefined && (NOT_SENT_CODES.has(code) || KNOWN[code]?.[0] === "tls")) {
    // Raised by a socket already connected (Linux reports the last ICMP error, EHOSTUNREACH,
    // when an established connection gives up): the request may have been written. Node names
    // the call; connecting and DNS lookups come before any byte is sent. Not sent: no syscall
    // named (undici's own codes, TLS, a fetch that keeps none), or one of those exactly.
    const syscall = codeHolder(error)?.syscall;
    if (syscall === undefined || /^(connect|getaddrinfo|query\w*)$/.test(`${syscall}`)) {
      return "not-sent";
    }
  }
  const links = chain(error);
  if (proxyRefusal(links) !== undefined || beforeSending(links) !== undefined) return "not-sent";
  if (code !== undefined && SETUP_CODES.has(code)) return "setup";
  const cause = (error as { cause?: unknown } | null)?.cause;
  const message = `${(error as Error | null)?.message ?? ""} ${(cause as Error | undefined)?.message ?? ""}`;
  if (SETUP_MESSAGES.test(message)) return "setup";
  // A TypeError thrown without a cause is a request fetch refused to build (undici wraps every
  // network failure as "fetch failed" with a cause).
  if (error instanceof TypeError && cause === undefined && code === undefined) return "setup";
  return "connection";
}

/** What kind of network failure: the one thing a person checks next. */
export type NetworkFailureKind =
  | "resolve"
  | "refused"
  | "timeout"
  | "unreachable"
  | "tls"
  | "proxy"
  | "other";

/** A failure to reach a server, in words (from codes and statuses, never from server text). */
export interface NetworkFailure {
  kind: NetworkFailureKind;
  /** The low-level code (ENOTFOUND, ECONNREFUSED, CERT_HAS_EXPIRED...), when there is one. */
  code?: string;
  /** What failed, in words, ending with the code or status in parentheses. */
  words: string;
}

/** Codes in words. A TLS code here means the handshake failed: no request byte was sent. */
const KNOWN: Record<string, [NetworkFailureKind, string]> = {
  ENOTFOUND: ["resolve", "the host name cannot be resolved"],
  EAI_AGAIN: ["resolve", "the host name cannot be resolved: the DNS lookup failed"],
  EAI_FAIL: ["resolve", "the host name cannot be resolved"],
  EAI_NONAME: ["resolve", "the host name cannot be resolved"],
  ECONNREFUSED: ["refused", "the connection was refused"],
  EHOSTUNREACH: ["unreachable", "the host is unreachable"],
  ENETUNREACH: ["unreachable", "the network is unreachable"],
  ETIMEDOUT: ["timeout", "the connection timed out"],
  UND_ERR_CONNECT_TIMEOUT: ["timeout", "the connection timed out"],
  ECONNRESET: ["other", "the connection was reset"],
  UND_ERR_SOCKET: ["other", "the connection was closed by the other side"],
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
  502: "Bad Gateway",
  503: "Service Unavailable",
  504: "Gateway Timeout",
};

/** The error and its causes (and an AggregateError's first), at most 6 deep. */
function chain(error: unknown): unknown[] {
  const out: unknown[] = [];
  for (let e: unknown = error; e && out.length < 6; ) {
    out.push(e);
    const inner = (e as { errors?: unknown[] }).errors;
    e = Array.isArray(inner) && inner.length > 0 ? inner[0] : (e as { cause?: unknown }).cause;
  }
  return out;
}

/** The status a proxy refused the request with (undici's tunnel error), or undefined. */
function proxyRefusal(links: unknown[]): number | undefined {
  for (const e of links) {
    const message = (e as { message?: unknown }).message;
    const match = typeof message === "string" ? PROXY_REFUSAL.exec(message) : null;
    if (match) return Number(match[1] ?? match[2]);
  }
  return undefined;
}

/** A message that proves nothing was sent (a cut-off TLS handshake, a failed tunnel), or undefined. */
function beforeSending(links: unknown[]): NetworkFailure | undefined {
  for (const [i, e] of links.entries()) {
    const message = (e as { message?: unknown }).message;
    if (typeof message !== "string") continue;
    const code = errorCode(links[i]);
    const tag = code ? ` (${code})` : "";
    if (TLS_CUT_OFF.test(message) && code === "ECONNRESET") {
      return { kind: "tls", code, words: `the TLS handshake was cut off${tag}` };
    }
    if (PROXY_TUNNEL.test(message)) {
      const words =
        code === "UND_ERR_HEADERS_TIMEOUT" || code === "UND_ERR_CONNECT_TIMEOUT"
          ? "the proxy did not answer CONNECT in time"
          : "the proxy closed the connection without answering CONNECT";
      return { kind: "proxy", ...(code ? { code } : {}), words: `${words}${tag}` };
    }
  }
  return undefined;
}

/**
 * What a rejected fetch (or an SDK error whose cause is one) says about the network: the kind,
 * the code, and the words a person can act on. The one table of these words, for the SDK's
 * messages and the CLI's.
 */
export function describeNetworkFailure(error: unknown): NetworkFailure {
  const links = chain(error);
  const status = proxyRefusal(links);
  if (status !== undefined) {
    const text = PROXY_STATUS_TEXT[status];
    return {
      kind: "proxy",
      words: `the proxy refused the connection (HTTP ${status}${text ? ` ${text}` : ""})`,
    };
  }
  const early = beforeSending(links);
  if (early) return early;
  for (const e of links) {
    const code = (e as { code?: unknown }).code;
    if (typeof code !== "string" || code === "") continue;
    const known = KNOWN[code];
    if (known) return { kind: known[0], code, words: `${known[1]} (${code})` };
    if (/CERT|TLS|SSL/.test(code)) {
      return { kind: "tls", code, words: `the certificate is not trusted (${code})` };
    }
    return { kind: "other", code, words: `the connection failed (${code})` };
  }
  if (links.some((e) => e instanceof Error && e.name === "TimeoutError")) {
    return { kind: "timeout", words: "no answer in time" };
  }
  return { kind: "other", words: "the connection failed" };
}
