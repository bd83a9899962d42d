// The secrets `vbapi doctor` knows, and how they are blanked. Server text is scrubbed where
// it enters the doctor (http.ts), before it is cut to length or escaped, so a secret can
// neither straddle the cut nor hide behind an escape; the rendered report is scrubbed again,
// escaped forms included, as a second line of defence.
import { safeJson, terminalText } from "../safe-text.ts";

/** A very short value would blank ordinary words: 4 characters at least. */
const MIN_LENGTH = 4;

const base64 = (text: string) => Buffer.from(text, "utf8").toString("base64");

function decoded(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** A URL's `user:password` as written, decoded, and each part alone. */
function userInfoOf(url: string | undefined): string[] {
  const info = url?.match(/\/\/([^/@]*)@/)?.[1];
  if (!info) return [];
  const [user = "", password = ""] = info.split(":");
  const plain = `${decoded(user)}:${decoded(password)}`;
  return [info, plain, user, password, decoded(user), decoded(password)];
}

/**
 * Every value that must never be printed: the API key, VBAPI_TOKEN, the password, the client
 * code, the Redis URL, proxy credentials (as written and decoded), `more` (the ID token the login received),
 * the Basic value's `user:password`, and the base64 of each (what a gateway would quote).
 * Longest first, so a secret inside another is not blanked first.
 */
export function secretsOf(env: NodeJS.ProcessEnv, more: readonly (string | undefined)[] = []) {
  const values = [
    env.VBAPI_API_KEY,
    env.VBAPI_TOKEN,
    env.VBAPI_PASSWORD,
    env.VBAPI_CLIENT_CODE,
    env.VBAPI_REDIS_URL,
  ];
  values.push(...more);
  if (env.VBAPI_PASSWORD) values.push(`${env.VBAPI_USERNAME ?? ""}:${env.VBAPI_PASSWORD}`);
  for (const name of ["HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "VBAPI_REDIS_URL"])
    values.push(...userInfoOf(env[name]));
  const plain = values.filter((v): v is string => typeof v === "string" && v.length >= MIN_LENGTH);
  return [...new Set([...plain, ...plain.map(base64)])].sort((a, b) => b.length - a.length);
}

/** `Bearer x` / `Basic x` with x a credential (not a plain word such as "token"). */
const AUTH_SCHEME = /\b(bearer|basic)(\s+)([^\s"',;)\]}]+)/gi;

/** Server text with every known secret, and any Bearer/Basic credential, blanked as `***`. */
export function scrubServerText(text: string, secrets: readonly string[]): string {
  return scrub(text, secrets).replace(
    AUTH_SCHEME,
    (all, scheme: string, space: string, value: string) =>
      /^[a-z]+$/.test(value) ? all : `${scheme}${space}***`,
  );
}

/** A run this long of server text found inside a secret is blanked (a secret split in parts). */
const MIN_RUN = 8;

/** The forms a secret is written in: raw, URL- and form-encoded, escaped for a terminal or JSON. */
function formsOf(secret: string): string[] {
  const url = encodeURIComponent(secret);
  return [
    secret,
    url,
    url.replace(/%20/g, "+"),
    terminalText(secret),
    JSON.stringify(secret).slice(1, -1),
    safeJson(secret).slice(1, -1),
  ];
}

/**
 * Rendered output with each secret blanked in every form the doctor or a gateway writes it: raw,
 * URL- or form-encoded, escaped for a terminal or inside a JSON string; then any run of
 * {@link MIN_RUN} characters or more that is part of one of those forms (a secret split across
 * fields, or cut), read through literal `\uXXXX` escapes.
 */
export function scrub(text: string, secrets: readonly string[]): string {
  const forms = [...new Set(secrets.flatMap(formsOf))].sort((a, b) => b.length - a.length);
  // Any letter case: a gateway may quote a value upper-cased. Longest first in the alternation.
  const out =
    forms.length === 0
      ? text
      : text.replace(new RegExp(forms.map(escapeRegExp).join("|"), "gi"), "***");
  return blankRuns(out, runsOf(secrets));
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\/-]/g, "\\$&");

/**
 * Every MIN_RUN-character piece of every secret's forms. A `user:password` value is left out:
 * the password's own pieces cover it, and the username alone is not a secret.
 */
function runsOf(secrets: readonly string[]): Set<string> {
  const runs = new Set<string>();
  for (const secret of secrets) {
    if (secrets.some((other) => other !== secret && secret.endsWith(`:${other}`))) continue;
    for (const form of formsOf(secret))
      for (let i = 0; i + MIN_RUN <= form.length; i++) runs.add(form.slice(i, i + MIN_RUN));
  }
  return runs;
}

/** `text` with each stretch made of pieces in `runs` blanked as `***`; `\uXXXX` read as its character. */
function blankRuns(text: string, runs: Set<string>): string {
  if (runs.size === 0) return text;
  // The text as read, each character with where it is written (an escape is 6 characters).
  const chars: string[] = [];
  const starts: number[] = [];
  const unicodeEscape = /\\u([0-9a-fA-F]{4})/y;
  for (let i = 0; i < text.length; ) {
    unicodeEscape.lastIndex = i;
    const hex = unicodeEscape.exec(text)?.[1];
    starts.push(i);
    chars.push(hex ? String.fromCharCode(Number.parseInt(hex, 16)) : (text[i] as string));
    i += hex ? 6 : 1;
  }
  starts.push(text.length);
  const read = chars.join("");
  const covered = new Uint8Array(chars.length);
  for (let i = 0; i + MIN_RUN <= chars.length; i++)
    if (runs.has(read.slice(i, i + MIN_RUN))) covered.fill(1, i, i + MIN_RUN);
  let out = "";
  for (let i = 0; i < chars.length; i++) {
    if (!covered[i]) out += text.slice(starts[i], starts[i + 1]);
    else if (i === 0 || !covered[i - 1]) out += "***";
  }
  return out;
}
