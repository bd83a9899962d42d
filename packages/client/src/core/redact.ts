// Keeps secrets out of anything the SDK writes: error messages, error fields and log lines.

const REDACTED = "[redacted]";

/** Replaces every occurrence of each secret (and any bearer credential) in `text`. */
export function redact(text: string, secrets: readonly (string | undefined)[]): string {
  let out = text;
  for (const secret of secrets) {
    if (secret && secret.length >= 4) out = out.split(secret).join(REDACTED);
  }
  return out.replace(/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/gi, `$1 ${REDACTED}`);
}

/** Shortens server-provided text before it goes into an error message. */
export function truncate(text: string, max = 500): string {
  return text.length > max ? `${text.slice(0, max)}...` : text;
}
