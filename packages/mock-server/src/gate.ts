// VBA's gatekeeping, in VBA's order: User-Agent (403), the spec's security schemes (401), the
// rate limit of the caller's API key (429). The batch routes and the login share the parts.
import { timingSafeEqual } from "node:crypto";
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from "node:http";
import { type ProblemDetails, problem } from "./problem.ts";
import type { RateLimiter } from "./rate-limit.ts";
import type { SecurityCheck } from "./spec.ts";
import { type ApiKeyStats, apiKeyId, type ServerState } from "./state.ts";

/** Constant-time string comparison. */
export function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** An answer to send instead of serving the request. */
export interface Refusal {
  problem: ProblemDetails;
  headers?: OutgoingHttpHeaders;
}

/** Decides on a bearer token: null when it is good, otherwise the `detail` of the 401. */
export type TokenCheck = (token: string) => Promise<string | null>;

/** The caller, once identified by its API key. */
export interface Caller {
  /** The key's label in the stats (`""` when the spec asks for no API key). */
  keyId: string;
  /** The key's counters, when the key is one the server counts. */
  counters: ApiKeyStats | undefined;
}

/** Checks the User-Agent, the credentials and the rate limit. */
export class Gatekeeper {
  /** Accepted API keys and their labels in the stats. */
  private readonly apiKeys: ReadonlyMap<string, string>;
  private readonly apiKeyHeaders: readonly string[];
  private readonly needsBearer: boolean;

  constructor(
    security: readonly SecurityCheck[],
    apiKeys: readonly string[],
    private readonly checkToken: TokenCheck,
    private readonly state: ServerState,
    private readonly databases?: ReadonlySet<string>,
  ) {
    this.apiKeys = new Map(apiKeys.map((key) => [key, apiKeyId(key)]));
    this.apiKeyHeaders = apiKeyHeadersOf(security);
    this.needsBearer = security.some((c) => c.kind === "bearer");
  }

  /** The batch routes' gate: User-Agent, API key, bearer token, the key's rate limit. */
  async check(headers: IncomingHttpHeaders, path: string): Promise<Refusal | null> {
    const caller = this.identify(headers, path, this.apiKeyHeaders);
    if ("problem" in caller) return caller;
    if (caller.counters) caller.counters.requests++;
    if (this.needsBearer) {
      const auth = headers.authorization;
      if (!auth || auth.length < 8 || auth.slice(0, 7).toLowerCase() !== "bearer ") {
        return refusal(401, "A bearer token is required in the Authorization header.", path);
      }
      const detail = await this.checkToken(auth.slice(7).trim());
      if (detail !== null) return refusal(401, detail, path);
    }
    const unknown = this.unknownDatabase(headers, path);
    if (unknown) return unknown;
    return this.limit(this.state.rateLimiter, caller.keyId, path, () => {
      this.state.stats.rateLimited++;
      if (caller.counters) caller.counters.rateLimited++;
    });
  }

  /** User-Agent (403) and every API key header the security asks for (401). */
  identify(
    headers: IncomingHttpHeaders,
    path: string,
    apiKeyHeaders: readonly string[],
  ): Caller | Refusal {
    if (!headers["user-agent"]) return refusal(403, "A User-Agent header is required.", path);
    let keyId = "";
    for (const header of apiKeyHeaders) {
      const key = headers[header];
      const id = typeof key === "string" ? this.apiKeys.get(key) : undefined;
      if (id === undefined)
        return refusal(401, `The ${header} header is missing or invalid.`, path);
      keyId ||= id;
    }
    return { keyId, counters: this.state.stats.byApiKey[keyId] };
  }

  /**
   * The 401 for a `vbasoftware-database` naming a database not in the `databases` option; null
   * when it names one, when the option is not set, or when the header is missing (its own 400).
   * The answer does not repeat the name (it is the caller's text).
   */
  unknownDatabase(headers: IncomingHttpHeaders, path: string): Refusal | null {
    const database = headers["vbasoftware-database"];
    if (!this.databases || typeof database !== "string" || database === "") return null;
    if (this.databases.has(database)) return null;
    return refusal(401, "The database named in vbasoftware-database does not exist.", path);
  }

  /** Takes a token from the key's bucket of `limiter`; a 429 with Retry-After when it is empty. */
  limit(
    limiter: RateLimiter,
    keyId: string,
    path: string,
    onLimited: () => void,
    what = "requests",
  ): Refusal | null {
    const taken = limiter.take(keyId);
    if (taken.ok) return null;
    onLimited();
    const limits = limiter.settings;
    const detail = limits
      ? `Rate limit of ${limits.requestsPerSecond} ${what} per second (burst ${limits.burst}) per API key exceeded.`
      : "Rate limit exceeded.";
    return {
      problem: problem(429, detail, path),
      headers: { "retry-after": String(taken.retryAfterSeconds) },
    };
  }
}

/** The API key headers a list of security checks reads. */
export function apiKeyHeadersOf(security: readonly SecurityCheck[]): string[] {
  return security.flatMap((c) => (c.kind === "apiKeyHeader" ? [c.header] : []));
}

function refusal(status: number, detail: string, path: string): Refusal {
  return { problem: problem(status, detail, path) };
}

/** The static-token mode: `validateToken` (or the `tokens` list) decides. */
export function staticTokenCheck(
  validate: (token: string) => boolean | Promise<boolean>,
): TokenCheck {
  return async (token) => {
    let ok: boolean;
    try {
      const verdict = validate(token);
      ok = typeof verdict === "boolean" ? verdict : await verdict.then(Boolean, () => false);
    } catch {
      ok = false; // a throwing validator refuses the token
    }
    return ok ? null : "The bearer token is invalid or has expired.";
  };
}
