// The doctor's HTTP requests: bounded in time (the --timeout-ms) and in size (the first 64 KiB
// of an answer are read, the rest dropped), with the answer recorded for the ASSUMED facts.
// The one place server text enters the doctor: every secret it knows is blanked here, before
// the text is cut to length or escaped.
import { describeNetworkFailure, type NetworkFailureKind } from "@vbapi-sdk/client";
import { terminalText } from "../safe-text.ts";
import { scrubServerText, secretsOf } from "./secrets.ts";
import type { Answer, DoctorContext } from "./types.ts";

/** The most of an answer the doctor reads: error answers are small; a huge one is cut. */
const MAX_BODY_BYTES = 64 * 1024;

async function readCapped(response: Response): Promise<string> {
  const reader = response.body?.getReader();
  if (!reader) return "";
  const chunks: Uint8Array[] = [];
  let size = 0;
  while (size < MAX_BODY_BYTES) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    size += value.byteLength;
  }
  await reader.cancel().catch(() => {});
  return Buffer.concat(chunks).subarray(0, MAX_BODY_BYTES).toString("utf8");
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The secrets known now: the environment's and the token the login received. */
export function knownSecrets(ctx: DoctorContext): string[] {
  return secretsOf(ctx.env, [ctx.token]);
}

/** Why a request or a connection failed, in words (the CLI's one wording of network errors). */
export function errorWords(error: unknown): {
  words: string;
  kind: NetworkFailureKind;
  code?: string;
} {
  const failure = describeNetworkFailure(error);
  return { words: terminalText(failure.words), kind: failure.kind, code: failure.code };
}

/** One request; the answer (also added to ctx.answers) or why there was none. */
export async function request(
  ctx: DoctorContext,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: string,
): Promise<Answer | { error: string; kind: NetworkFailureKind; code?: string; ms: number }> {
  const started = performance.now();
  const ms = () => Math.round(performance.now() - started);
  try {
    const response = await ctx.fetch(`${ctx.baseUrl}${path}`, {
      method,
      headers: { "user-agent": ctx.userAgent, ...headers },
      body,
      redirect: "manual",
      signal: AbortSignal.timeout(ctx.timeoutMs),
    });
    const text = await readCapped(response);
    const secrets = knownSecrets(ctx);
    const header = (name: string) => {
      const value = response.headers.get(name);
      return value === null ? null : scrubServerText(value, secrets);
    };
    const answer: Answer = {
      what: `${method} ${path}`,
      status: response.status,
      contentType: header("content-type") ?? "",
      json: parseJson(text),
      date: header("date"),
      retryAfter: header("retry-after"),
      ms: ms(),
    };
    ctx.answers.push(answer);
    return answer;
  } catch (error) {
    const { words, kind, code } = errorWords(error);
    return { error: words, kind, code, ms: ms() };
  }
}

/**
 * The problem's `detail` (or `error.detail`, or `title`) of an answer, safe for a terminal:
 * every known secret blanked first, then escaped, then cut at 200 characters.
 */
export function detailOf(ctx: DoctorContext, answer: Answer): string | undefined {
  const body = answer.json as Record<string, unknown> | undefined;
  const error = body?.error as Record<string, unknown> | undefined;
  const text = [body?.detail, error?.detail, body?.title, error?.title].find(
    (v) => typeof v === "string" && v !== "",
  );
  if (typeof text !== "string") return undefined;
  const safe = terminalText(scrubServerText(text, knownSecrets(ctx)));
  return safe.length > 200 ? `${safe.slice(0, 200)}…` : safe;
}

/** Which credentials an error text points at (none when it names none). */
export function pointsAt(detail: string | undefined): string[] {
  if (!detail) return [];
  const t = detail.toLowerCase();
  const found: string[] = [];
  if (/api[ -]?key/.test(t)) found.push("the API key (VBAPI_API_KEY)");
  if (/user ?name or password/.test(t)) found.push("the username or password");
  else {
    if (/user ?name/.test(t)) found.push("the username (VBAPI_USERNAME)");
    if (/password/.test(t)) found.push("the password (VBAPI_PASSWORD)");
  }
  if (/client id/.test(t)) found.push("the client id (VBAPI_CLIENT_ID)");
  if (/client code/.test(t)) found.push("the client code (VBAPI_CLIENT_CODE)");
  if (/database/.test(t)) found.push("the database (--database / VBAPI_DATABASE)");
  if (/user-agent/.test(t)) found.push("the User-Agent");
  if (/bearer|token/.test(t) && !/api[ -]?key/.test(t)) found.push("the bearer token");
  return found;
}
