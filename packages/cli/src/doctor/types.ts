// What every check of `vbapi doctor` reports, and what the checks share: the target, the
// fetch to use, and the answers seen (read by the ASSUMED facts at the end).

export type Verdict = "pass" | "warn" | "fail" | "skip";

/** One line of the checklist. */
export interface Check {
  /** Stable name (`dns`, `login`, `probe Tolerance`), for tools reading --json. */
  id: string;
  verdict: Verdict;
  /** What the check saw (server text already made safe for a terminal). */
  saw: string;
  /** What to do, when the check did not pass. */
  fix?: string;
  /** How long the check took, in ms. */
  ms?: number;
}

/** An HTTP answer the doctor received (bounded; no request or answer headers beyond these). */
export interface Answer {
  /** `POST /user-authentication`, `PUT /tolerances-batch`... */
  what: string;
  status: number;
  contentType: string;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  json: unknown;
  date: string | null;
  retryAfter: string | null;
  ms: number;
}

/** What the checks need and share. */
export interface DoctorContext {
  baseUrl: string;
  database: string | undefined;
  env: NodeJS.ProcessEnv;
  fetch: typeof fetch;
  timeoutMs: number;
  /** The proxy requests go through (its URL without credentials), when there is one. */
  proxy: { url: string } | undefined;
  userAgent: string;
  /** Every HTTP answer, in order. */
  answers: Answer[];
  /** The bearer token the probe sends: VBAPI_TOKEN, or the one the login got. */
  token: string | undefined;
  /** The login's 401/403 detail, when it was refused. */
  loginRefusal: string | undefined;
}
