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
/** TLS failures: the handshake did not complete, so no request byte was sent. */
const TLS_CODES = new Set([
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "CERT_HAS_EXPIRED",
  "CERT_NOT_YET_VALID",
  "CERT_UNTRUSTED",
  "CERT_REVOKED",
  "ERR_TLS_CERT_ALTNAME_INVALID",
  "ERR_SSL_WRONG_VERSION_NUMBER",
]);
/** A proxy that answered its CONNECT with something else than 200: the request never left. */
const PROXY_REFUSAL = /Proxy response \((\d{3})\) !== 200|Proxy Authentication Required \((407)\)/;
/** Causes that mean the request could not be built at all: not sent, and resending cannot help. */
const SETUP_CODES = new Set(["ERR_INVALID_URL", "UND_ERR_INVALID_ARG", "UND_ERR_NOT_SUPPORTED"]);
const SETUP_MESSAGES =
  /unknown scheme|not implemented|bad port|invalid header|failed to parse url/i;

export function errorCode(error: unknown): string | undefined {
  for (let e: unknown = error, depth = 0; e && depth < 5; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string") return code;
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
  if (code !== undefined && (NOT_SENT_CODES.has(code) || TLS_CODES.has(code))) return "not-sent";
  if (proxyRefusal(error) !== undefined) return "not-sent";
  if (code !== undefined && SETUP_CODES.has(code)) return "setup";
  const cause = (error as { cause?: unknown } | null)?.cause;
  const message = `${(error as Error | null)?.message ?? ""} ${(cause as Error | undefined)?.message ?? ""}`;
  if (SETUP_MESSAGES.test(message)) return "setup";
  // A TypeError thrown without a cause is a request fetch refused to build (undici wraps every
  // network failure as "fetch failed" with a cause).
  if (error instanceof TypeError && cause === undefined && code === undefined) return "setup";
  return "connection";
}

/** The messages of `error` and its causes (at most 5 deep), for patterns no code names. */
function messages(error: unknown): string {
  let text = "";
  for (let e: unknown = error, depth = 0; e && depth < 5; depth++) {
    const message = (e as { message?: unknown }).message;
    if (typeof message === "string") text += ` ${message}`;
    e = (e as { cause?: unknown }).cause;
  }
  return text;
}

/** The status a proxy refused the request with (undici's tunnel error), or undefined. */
export function proxyRefusal(error: unknown): number | undefined {
  const match = PROXY_REFUSAL.exec(messages(error));
  return match ? Number(match[1] ?? match[2]) : undefined;
}

/** A failure to reach the server in words, from its low-level code (never server text). */
export function failureWords(error: unknown): string {
  const proxyStatus = proxyRefusal(error);
  if (proxyStatus !== undefined) return `the proxy refused the connection (HTTP ${proxyStatus})`;
  const code = errorCode(error);
  const words = code === undefined ? undefined : WORDS[code];
  if (words) return `${words} (${code})`;
  if (code !== undefined && TLS_CODES.has(code)) return `the certificate is not trusted (${code})`;
  return `connection failed (${code ?? "unknown error"})`;
}

const WORDS: Record<string, string> = {
  ENOTFOUND: "the host name cannot be resolved",
  EAI_AGAIN: "the host name cannot be resolved: the DNS lookup failed",
  EAI_FAIL: "the host name cannot be resolved",
  EAI_NONAME: "the host name cannot be resolved",
  ECONNREFUSED: "the connection was refused",
  ECONNRESET: "the connection was reset",
  EHOSTUNREACH: "the host is unreachable",
  ENETUNREACH: "the network is unreachable",
  ETIMEDOUT: "the connection timed out",
  UND_ERR_CONNECT_TIMEOUT: "the connection timed out",
  UND_ERR_SOCKET: "the connection was closed by the other side",
  CERT_HAS_EXPIRED: "the certificate has expired",
  ERR_TLS_CERT_ALTNAME_INVALID: "the certificate does not name this host",
};
