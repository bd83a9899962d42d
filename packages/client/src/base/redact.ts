// Keeps secrets out of anything the SDK writes (error messages, error fields, log lines) and
// bounds the server text it passes on.

const REDACTED = "[redacted]";

/** Longest server-provided text (a per-record message, a problem detail) the SDK passes on. */
export const MAX_SERVER_TEXT = 500;

// A credential after "Bearer"/"Basic": at least 8 token characters including a digit, a dot or
// a base64 sign, so "a bearer token is required" stays readable while a JWT or Basic pair goes.
const CREDENTIAL =
  /\b(Bearer|Basic)(\s+)(?=[A-Za-z0-9._~+/=-]{8,})(?=[A-Za-z._~+/=-]*[0-9._~+/=])[A-Za-z0-9._~+/=-]+/gi;

/**
 * The forms a secret is written in by a server that echoes it: as given, escaped inside a JSON
 * string, URL-encoded (also with `+` for spaces) and base64 (standard and URL-safe, with and
 * without padding). Matched ignoring case.
 */
function formsOf(secret: string): readonly string[] {
  let forms = FORMS.get(secret);
  if (forms === undefined) {
    const url = encodeURIComponent(secret);
    const b64 = base64(secret);
    const unpadded = b64.replace(/=+$/, "");
    forms = [
      ...new Set([
        secret,
        JSON.stringify(secret).slice(1, -1),
        url,
        url.replace(/%20/g, "+"),
        b64,
        unpadded,
        unpadded.replace(/\+/g, "-").replace(/\//g, "_"),
      ]),
    ];
    if (FORMS.size >= 256) FORMS.clear();
    FORMS.set(secret, forms);
  }
  return forms;
}
/** Forms per secret (a client's few secrets and the tokens it saw; cleared when it fills). */
const FORMS = new Map<string, readonly string[]>();

/**
 * Replaces every occurrence of each secret (4+ characters) in any of its forms (see formsOf),
 * ignoring case, and any bearer or basic credential, in `text`.
 */
export function redact(text: string, secrets: readonly (string | undefined)[]): string {
  const forms: string[] = [];
  for (const secret of secrets) if (secret && secret.length >= 4) forms.push(...formsOf(secret));
  return redactAll(text, forms).replace(CREDENTIAL, `$1$2${REDACTED}`);
}

/**
 * Replaces every occurrence of each of `needles` in `text`, ignoring case (as `toLowerCase`
 * folds it); overlapping matches become one `[redacted]`.
 */
export function redactAll(text: string, needles: readonly string[]): string {
  if (needles.length === 0 || text.length === 0) return text;
  // Lower-casing keeps each UTF-16 unit's position unless a character grows (İ): then exact.
  const lower = text.toLowerCase();
  const folded = lower.length === text.length;
  const spans: number[] = [];
  for (const needle of needles) {
    if (needle.length === 0 || needle.length > text.length) continue;
    const low = needle.toLowerCase();
    const [hay, find] = folded && low.length === needle.length ? [lower, low] : [text, needle];
    for (let at = hay.indexOf(find); at !== -1; at = hay.indexOf(find, at + 1))
      spans.push(at, at + find.length);
  }
  if (spans.length === 0) return text;
  const order = Array.from({ length: spans.length / 2 }, (_, i) => 2 * i).sort(
    (a, b) => (spans[a] as number) - (spans[b] as number),
  );
  let out = "";
  let end = -1;
  for (const i of order) {
    const start = spans[i] as number;
    const stop = spans[i + 1] as number;
    if (start > end) {
      // A new stretch to blank: the text since the last one, then (at the end) the mark.
      if (end >= 0) out += REDACTED;
      out += text.slice(Math.max(end, 0), start);
      end = stop;
    } else if (stop > end) end = stop;
  }
  return `${out}${REDACTED}${text.slice(end)}`;
}

/** Base64 of the UTF-8 bytes of `text` (what a Basic credential or a gateway quotes). */
export function base64(text: string): string {
  const bytes = new TextEncoder().encode(text);
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

/** Cuts server-provided text to {@link MAX_SERVER_TEXT} characters, marking the cut with "…". */
export function clip(text: string, max = MAX_SERVER_TEXT): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}
