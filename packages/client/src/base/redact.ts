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
 * string, URL-encoded (also with `+` for spaces) and base64 (standard and URL-safe, with and
 * without padding). Matched ignoring case; `\uXXXX` escapes and HTML character references are
 * read by `views`, so no form is needed for them.
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
        // As PHP's json_encode and others write it: "/" escaped.
        JSON.stringify(secret).slice(1, -1).replace(/\//g, "\\/"),
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

/** What `redactAll` looks for besides the needles it matches ignoring case. */
export interface ExactNeedles {
  /** Matched with their letter case as given. */
  exact?: readonly string[] | undefined;
  /** Numbers as written, matched only as a whole number (not inside a longer number). */
  numbers?: readonly string[] | undefined;
  /** `views(text)` and each view's `fold`, when the caller has them already (not read again). */
  seen?: { views: readonly View[]; folded: readonly string[] } | undefined;
}

/**
 * `text` lower-cased one UTF-16 unit at a time where lower-casing would change its length (İ),
 * so that every unit keeps its position.
 */
export function fold(text: string): string {
  const lower = text.toLowerCase();
  // A final sigma (ς, lower-cased at a word's end) is the same letter as σ.
  if (lower.length === text.length) return lower.includes("ς") ? lower.replace(/ς/g, "σ") : lower;
  let out = "";
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    const l = c.toLowerCase();
    out += l.length === 1 ? l : c;
  }
  return out.includes("ς") ? out.replace(/ς/g, "σ") : out;
}

/** One way of reading a text for matching: the text so read, and where each unit starts. */
export interface View {
  text: string;
  /** Where each unit of `text` starts in the original (one more entry for the end); undefined: the same. */
  at: number[] | undefined;
}

/**
 * The text with each `token` (a sticky pattern) read as `read` says (undefined: left as written),
 * and where each read unit starts in `text`.
 */
function decodedView(
  text: string,
  token: RegExp,
  read: (match: RegExpExecArray) => string | undefined,
): View {
  const chars: string[] = [];
  const at: number[] = [];
  for (let i = 0; i < text.length; ) {
    token.lastIndex = i;
    const match = token.exec(text);
    const units = match ? read(match) : undefined;
    if (match && units !== undefined) {
      for (let u = 0; u < units.length; u++) at.push(i);
      chars.push(units);
      i += match[0].length;
    } else {
      at.push(i);
      chars.push(text[i] as string);
      i++;
    }
  }
  at.push(text.length);
  return { text: chars.join(""), at };
}

/** HTML character references: numeric (`&#43;`, `&#x2B;`) and the five XML names. */
const HTML_REFERENCE = /&(?:#([0-9]{1,7})|#[xX]([0-9a-fA-F]{1,6})|(amp|lt|gt|quot|apos));/y;
const NAMED: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };
const readReference = (ref: RegExpExecArray): string | undefined => {
  if (ref[3] !== undefined) return NAMED[ref[3]];
  const code = ref[1] !== undefined ? Number(ref[1]) : Number.parseInt(ref[2] as string, 16);
  return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : undefined;
};

/** A JSON `\uXXXX` escape, or an escaped backslash (`\\`: a backslash, not an escape's start). */
const JSON_ESCAPE = /\\(?:u([0-9a-fA-F]{4})|\\)/y;
const readEscape = (found: RegExpExecArray): string =>
  found[1] === undefined ? found[0] : String.fromCharCode(Number.parseInt(found[1], 16));

/**
 * The text as written, and as a reader sees it: with its `\uXXXX` escapes read as their
 * characters (a .NET server escapes `+ < > & '` and non-ASCII so), and with its HTML character
 * references read (a gateway's error page: `&#x2B;`, `&#34;`, `&quot;`).
 */
export function views(text: string): View[] {
  const out: View[] = [{ text, at: undefined }];
  if (text.includes("&") && /&(?:#[0-9xX]|amp;|lt;|gt;|quot;|apos;)/.test(text)) {
    out.push(decodedView(text, HTML_REFERENCE, readReference));
  }
  if (text.includes("\\u")) out.push(decodedView(text, JSON_ESCAPE, readEscape));
  return out;
}

const isDigit = (c: string | undefined) => c !== undefined && c >= "0" && c <= "9";

/** Whether `text[from, to)` is a whole number: no digit beside it, nor a `.` then a digit. */
function wholeNumber(text: string, from: number, to: number): boolean {
  if (isDigit(text[from - 1]) || isDigit(text[to])) return false;
  if (text[from - 1] === "." && isDigit(text[from - 2])) return false;
  if (text[to] === "." && isDigit(text[to + 1])) return false;
  return true;
}

/**
 * Replaces every occurrence in `text` of each of `needles` (ignoring case), of each `exact`
 * needle, and of each of `numbers` as a whole number, as written and as read with `\uXXXX`
 * escapes decoded; what the matches cover, overlapping or touching, becomes one `[redacted]` per
 * stretch. Linear in the text per needle: repeated needles count once.
 */
export function redactAll(
  text: string,
  needles: readonly string[],
  { exact, numbers, seen }: ExactNeedles = {},
): string {
  if (text.length === 0) return text;
  const read = seen?.views ?? views(text);
  let covered: Uint8Array | undefined;
  const anyCase = [...new Set(needles)].filter((n) => n.length > 0).map(fold);
  const asWritten = [...new Set(exact ?? [])].filter((n) => n.length > 0);
  const whole = [...new Set(numbers ?? [])].filter((n) => n.length > 0);
  for (const [v, view] of read.entries()) {
    const cover = (from: number, to: number) => {
      covered ??= new Uint8Array(text.length);
      if (view.at) covered.fill(1, view.at[from], view.at[to]);
      else covered.fill(1, from, to);
    };
    /** Each occurrence of `find` in `hay` (overlapping ones too), covering each unit once. */
    const each = (hay: string, find: string, keep: (from: number, to: number) => boolean) => {
      if (find.length > hay.length) return;
      let done = 0;
      for (let i = hay.indexOf(find); i !== -1; i = hay.indexOf(find, i + 1)) {
        if (!keep(i, i + find.length)) continue;
        cover(Math.max(i, done), i + find.length);
        done = i + find.length;
      }
    };
    const always = () => true;
    if (anyCase.length > 0) {
      const lower = seen?.folded[v] ?? fold(view.text);
      for (const needle of anyCase) each(lower, needle, always);
    }
    for (const needle of asWritten) each(view.text, needle, always);
    for (const number of whole) {
      each(view.text, number, (from, to) => wholeNumber(view.text, from, to));
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
