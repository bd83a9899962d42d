// How a rejected fetch failed: before anything was sent (safe to retry, not applied), a request
// that could not be built at all, a timeout, or a connection lost after sending (maybe applied).

/** Low-level error codes that mean the request never left the machine (safe to retry, not applied). */
const NOT_SENT_CODES = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "EAI_AGAIN",
  "ENETUNREACH",
  "EHOSTUNREACH",
  "UND_ERR_CONNECT_TIMEOUT",
]);
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
  if (code !== undefined && NOT_SENT_CODES.has(code)) return "not-sent";
  if (code !== undefined && SETUP_CODES.has(code)) return "setup";
  const cause = (error as { cause?: unknown } | null)?.cause;
  const message = `${(error as Error | null)?.message ?? ""} ${(cause as Error | undefined)?.message ?? ""}`;
  if (SETUP_MESSAGES.test(message)) return "setup";
  // A TypeError thrown without a cause is a request fetch refused to build (undici wraps every
  // network failure as "fetch failed" with a cause).
  if (error instanceof TypeError && cause === undefined && code === undefined) return "setup";
  return "connection";
}
