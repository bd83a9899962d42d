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
 * Every value that must never be printed: the API key, VBAPI_TOKEN, the password, the Redis
 * URL, proxy credentials (as written and decoded), `more` (the ID token the login received),
 * the Basic value's `user:password`, and the base64 of each (what a gateway would quote).
 * Longest first, so a secret inside another is not blanked first.
 */
export function secretsOf(env: NodeJS.ProcessEnv, more: readonly (string | undefined)[] = []) {
  const values = [env.VBAPI_API_KEY, env.VBAPI_TOKEN, env.VBAPI_PASSWORD, env.VBAPI_REDIS_URL];
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

/**
 * Rendered output with each secret blanked in every form the doctor writes it: raw, escaped
 * for a terminal, and escaped inside a JSON string.
 */
export function scrub(text: string, secrets: readonly string[]): string {
  const forms = secrets.flatMap((s) => [
    s,
    terminalText(s),
    JSON.stringify(s).slice(1, -1),
    safeJson(s).slice(1, -1),
  ]);
  let out = text;
  for (const form of [...new Set(forms)].sort((a, b) => b.length - a.length))
    out = out.split(form).join("***");
  return out;
}
