// Keeps secrets out of anything the SDK writes (error messages, error fields, log lines) and
// bounds the server text it passes on.

const REDACTED = "[redacted]";

/** Longest server-provided text (a per-record message, a problem detail) the SDK passes on. */
export const MAX_SERVER_TEXT = 500;

/**
 * Server text is cut to this before it is cleaned of secrets and values (then to what is kept):
 * far past what is kept, so no secret or value across the final cut is missed, and a hostile
 * megabyte is not searched for every value.
 */
export const MAX_CLEANED_TEXT = 64 * 1024;

// A credential after "Bearer"/"Basic": at least 8 token characters including a digit, a dot or
// a base64 sign, so "a bearer token is required" stays readable while a JWT or Basic pair goes.
const CREDENTIAL =
  /\b(Bearer|Basic)(\s+)(?=[A-Za-z0-9._~+/=-]{8,})(?=[A-Za-z._~+/=-]*[0-9._~+/=])[A-Za-z0-9._~+/=-]+/gi;

/**
 * The forms a secret is written in by a server that echoes it: as given, escaped inside a JSON
 * string, escaped for HTML, URL-encoded (also with `+` for spaces) and base64 (standard and
 * URL-safe, with and without padding). Matched ignoring case.
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
        htmlEscaped(secret),
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
/** As an HTML page (a gateway's error page) writes it. */
const htmlEscaped = (text: string) =>
  text
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&#39;");

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

/** What `redactAll` looks for besides the needles it matches ignoring case. */
export interface ExactNeedles {
  /** Matched with their letter case as given. */
  exact?: readonly string[] | undefined;
  /** Numbers as written, matched only as a whole number (no digit or `.` right beside). */
  numbers?: readonly string[] | undefined;
}

/**
 * `text` lower-cased one UTF-16 unit at a time where lower-casing would change its length (İ),
 * so that every unit keeps its position.
 */
function fold(text: string): string {
  const lower = text.toLowerCase();
  if (lower.length === text.length) return lower;
  let out = "";
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    const l = c.toLowerCase();
    out += l.length === 1 ? l : c;
  }
  return out;
}

/**
 * The text as a reader sees it, for matching: lower-cased, with JSON's `\uXXXX` escapes read as
 * their characters (a .NET server escapes `+ < > & '` and non-ASCII so), and where each read
 * character starts in `text` (`at`, one more entry for the end; undefined when the same).
 */
function readable(text: string): { read: string; at: number[] | undefined } {
  if (!text.includes("\\u")) return { read: fold(text), at: undefined };
  const chars: string[] = [];
  const at: number[] = [];
  const unicodeEscape = /\\u([0-9a-fA-F]{4})/y;
  for (let i = 0; i < text.length; ) {
    unicodeEscape.lastIndex = i;
    const hex = unicodeEscape.exec(text)?.[1];
    at.push(i);
    chars.push(hex ? String.fromCharCode(Number.parseInt(hex, 16)) : (text[i] as string));
    i += hex ? 6 : 1;
  }
  at.push(text.length);
  return { read: fold(chars.join("")), at };
}

const DIGIT_OR_DOT = /[0-9.]/;

/**
 * Replaces every occurrence in `text` of each of `needles` (ignoring case, also written with
 * `\uXXXX` escapes), of each `exact` needle, and of each of `numbers` as a whole number; what
 * the matches cover, overlapping or touching, becomes one `[redacted]` per stretch. Linear in
 * the text per needle: repeated needles count once.
 */
export function redactAll(
  text: string,
  needles: readonly string[],
  { exact, numbers }: ExactNeedles = {},
): string {
  if (text.length === 0) return text;
  let covered: Uint8Array | undefined;
  const cover = (from: number, to: number) => {
    covered ??= new Uint8Array(text.length);
    covered.fill(1, from, to);
  };
  /** Each occurrence of `find` in `hay` (overlapping ones too), covering each unit once. */
  const each = (hay: string, find: string, onMatch: (from: number, to: number) => void) => {
    let done = 0;
    for (let i = hay.indexOf(find); i !== -1; i = hay.indexOf(find, i + 1)) {
      onMatch(Math.max(i, done), i + find.length);
      done = i + find.length;
    }
  };
  if (needles.length > 0) {
    const { read, at } = readable(text);
    for (const needle of new Set(needles)) {
      if (needle.length === 0 || needle.length > read.length) continue;
      each(read, fold(needle), (from, to) =>
        at ? cover(at[from] as number, at[to] as number) : cover(from, to),
      );
    }
  }
  for (const needle of new Set(exact ?? [])) {
    if (needle.length > 0 && needle.length <= text.length) each(text, needle, cover);
  }
  for (const number of new Set(numbers ?? [])) {
    if (number.length === 0 || number.length > text.length) continue;
    for (let i = text.indexOf(number); i !== -1; i = text.indexOf(number, i + 1)) {
      const end = i + number.length;
      if (DIGIT_OR_DOT.test(text[i - 1] ?? "") || DIGIT_OR_DOT.test(text[end] ?? "")) continue;
      cover(i, end);
    }
  }
  if (covered === undefined) return text;
  const marks = covered;
  let out = "";
  for (let i = 0; i < text.length; ) {
    const start = i;
    if (marks[i]) {
      while (i < text.length && marks[i]) i++;
      out += REDACTED;
    } else {
      while (i < text.length && !marks[i]) i++;
      out += text.slice(start, i);
    }
  }
  return out;
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
