// The spec's ASSUMED facts that the doctor's answers can confirm or contradict. Each fact
// points at the place in the bundled spec that assumes it; a fact the spec no longer calls
// assumed is not listed (and test/doctor-assumed.test.ts fails until this table follows).
import spec from "@vbapi-sdk/openapi";
import type { Answer } from "./types.ts";

export type FactVerdict = "confirmed" | "contradicted" | "not seen";

export interface Fact {
  id: string;
  /** The assumption, in words. */
  says: string;
  /** JSON pointer into the bundled spec, to the text that says it is assumed. */
  pointer: string;
  /** A phrase that text contains (case-insensitive). */
  mark: string;
  judge(answers: readonly Answer[]): { verdict: FactVerdict; saw: string };
}

const isError = (a: Answer) => a.status >= 400 && a.status < 500 && a.status !== 407;
const baseType = (a: Answer) => a.contentType.split(";")[0]?.trim().toLowerCase() || "(none)";
const loginAnswer = (answers: readonly Answer[]) =>
  answers.find((a) => a.what === "POST /user-authentication");
const authResult = (a: Answer | undefined) =>
  (a?.json as { data?: { authenticationResult?: Record<string, unknown> } } | undefined)?.data
    ?.authenticationResult;

function overErrors(
  answers: readonly Answer[],
  ok: (a: Answer) => boolean,
  describe: (a: Answer) => string,
): { verdict: FactVerdict; saw: string } {
  const errors = answers.filter(isError);
  if (errors.length === 0) return { verdict: "not seen", saw: "no 4xx answer" };
  const bad = errors.filter((a) => !ok(a));
  if (bad.length === 0)
    return {
      verdict: "confirmed",
      saw: `${errors.length} error answers, all ${describe(errors[0] as Answer)}`,
    };
  const first = bad[0] as Answer;
  return {
    verdict: "contradicted",
    saw: `${first.what} answered ${first.status} ${describe(first)}`,
  };
}

export const FACTS: readonly Fact[] = [
  {
    id: "error-content-type",
    says: "error answers are labelled application/problem+json",
    pointer: "/components/responses/Unauthorized/description",
    mark: "assumed to be problem details",
    judge: (answers) =>
      overErrors(
        answers,
        (a) => baseType(a) === "application/problem+json",
        (a) => `as ${baseType(a)}`,
      ),
  },
  {
    id: "problem-details-body",
    says: "error bodies are RFC 7807 problem details (status, title, detail)",
    pointer: "/components/schemas/VBAProblemDetails/description",
    mark: "this description assumes",
    judge: (answers) =>
      overErrors(
        answers,
        (a) => {
          const b = a.json as Record<string, unknown> | undefined;
          return (
            b?.status === a.status && (typeof b.title === "string" || typeof b.detail === "string")
          );
        },
        (a) =>
          (a.json as { status?: unknown })?.status === a.status
            ? "with problem details"
            : "without problem details at the top level",
      ),
  },
  {
    id: "login-401-names-credential",
    says: "a refused login says which credential was wrong",
    pointer: "/components/responses/LoginUnauthorized/description",
    mark: "which credential was wrong is assumed",
    judge: (answers) => {
      const a = loginAnswer(answers);
      if (a?.status !== 401) return { verdict: "not seen", saw: "no refused login" };
      const detail = JSON.stringify(a.json ?? "").toLowerCase();
      const named = /api.?key|user ?name|password|client id|client code|database/.test(detail);
      return named
        ? { verdict: "confirmed", saw: "the 401's detail names a credential" }
        : { verdict: "contradicted", saw: "the 401 names no credential" };
    },
  },
  {
    id: "login-expires-in",
    says: "the login answer carries expiresIn (seconds)",
    pointer: "/components/schemas/AuthenticationResult/properties/expiresIn/description",
    mark: "assumed",
    judge: (answers) => {
      const login = loginAnswer(answers);
      if (login?.status !== 200) return { verdict: "not seen", saw: "no successful login" };
      const r = authResult(login) ?? {};
      return typeof r.expiresIn === "number"
        ? { verdict: "confirmed", saw: `expiresIn ${r.expiresIn}` }
        : { verdict: "contradicted", saw: "no numeric expiresIn" };
    },
  },
  {
    id: "login-token-type",
    says: "the login answer carries tokenType Bearer",
    pointer: "/components/schemas/AuthenticationResult/properties/tokenType/description",
    mark: "assumed",
    judge: (answers) => {
      const login = loginAnswer(answers);
      if (login?.status !== 200) return { verdict: "not seen", saw: "no successful login" };
      const r = authResult(login) ?? {};
      return String(r.tokenType).toLowerCase() === "bearer"
        ? { verdict: "confirmed", saw: "tokenType Bearer" }
        : {
            verdict: "contradicted",
            saw: typeof r.tokenType === "string" ? "another tokenType" : "no tokenType",
          };
    },
  },
  {
    id: "retry-after-form",
    says: "a 429 carries Retry-After, in seconds or as an HTTP date",
    pointer: "/components/headers/Retry-After/description",
    mark: "not this header's form",
    judge: (answers) => {
      const a = answers.find((x) => x.status === 429);
      if (!a) return { verdict: "not seen", saw: "no 429" };
      const value = a.retryAfter ?? "";
      if (/^\d+$/.test(value)) return { verdict: "confirmed", saw: "Retry-After in seconds" };
      if (Number.isFinite(Date.parse(value)))
        return { verdict: "confirmed", saw: "Retry-After as an HTTP date" };
      return {
        verdict: "contradicted",
        saw: value ? "Retry-After in another form" : "a 429 without Retry-After",
      };
    },
  },
];

/** The text at a JSON pointer of the bundled spec, or undefined. */
export function specText(pointer: string): string | undefined {
  let node: unknown = spec;
  for (const raw of pointer.split("/").slice(1)) {
    const key = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    node =
      node !== null && typeof node === "object"
        ? (node as Record<string, unknown>)[key]
        : undefined;
  }
  return typeof node === "string" ? node : undefined;
}

/** Whether the spec still says the fact is assumed. */
export const stillAssumed = (fact: Fact) =>
  specText(fact.pointer)?.toLowerCase().includes(fact.mark.toLowerCase()) === true;

export interface FactReport {
  id: string;
  says: string;
  verdict: FactVerdict;
  saw: string;
}

export function judgeFacts(answers: readonly Answer[]): FactReport[] {
  return FACTS.filter(stillAssumed).map((fact) => ({
    id: fact.id,
    says: fact.says,
    ...fact.judge(answers),
  }));
}
