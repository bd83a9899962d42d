// Keeps secrets out of anything the SDK writes (error messages, error fields, log lines) and
// bounds the server text it passes on.

const REDACTED = "[redacted]";

/** Longest server-provided text (a per-record message, a problem detail) the SDK passes on. */
export const MAX_SERVER_TEXT = 500;

// A credential after "Bearer"/"Basic": at least 8 token characters including a digit, a dot or
// a base64 sign, so "a bearer token is required" stays readable while a JWT or Basic pair goes.
const CREDENTIAL =
  /\b(Bearer|Basic)(\s+)(?=[A-Za-z0-9._~+/=-]{8,})(?=[A-Za-z._~+/=-]*[0-9._~+/=])[A-Za-z0-9._~+/=-]+/gi;

/** Replaces every occurrence of each secret (4+ characters), and any bearer credential, in `text`. */
export function redact(text: string, secrets: readonly (string | undefined)[]): string {
  let out = text;
  for (const secret of secrets) {
    if (secret && secret.length >= 4 && out.includes(secret))
      out = out.split(secret).join(REDACTED);
  }
  return out.replace(CREDENTIAL, `$1$2${REDACTED}`);
}

/** Cuts server-provided text to {@link MAX_SERVER_TEXT} characters, marking the cut with "…". */
export function clip(text: string, max = MAX_SERVER_TEXT): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}
