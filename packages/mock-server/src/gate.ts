// VBA's gatekeeping in front of every batch route, in VBA's order: User-Agent (403), the
// spec's security schemes (401), the rate limit (429).
import { timingSafeEqual } from "node:crypto";
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from "node:http";
import { type ProblemDetails, problem } from "./problem.ts";
import type { SecurityCheck } from "./spec.ts";
import { apiKeyId, type ServerState } from "./state.ts";

/** Constant-time string comparison. */
export function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Let in, or the answer to send instead. */
export type GateVerdict =
  | { ok: true }
  | { ok: false; problem: ProblemDetails; headers?: OutgoingHttpHeaders };

/** Checks the User-Agent, the credentials the spec asks for, and the rate limit. */
export class Gatekeeper {
  /** Accepted API keys and their labels in the stats. */
  private readonly apiKeys: ReadonlyMap<string, string>;
  private readonly apiKeyHeaders: readonly string[];
  private readonly needsBearer: boolean;

  constructor(
    security: readonly SecurityCheck[],
    apiKeys: readonly string[],
    private readonly validateToken: (token: string) => boolean | Promise<boolean>,
    private readonly state: ServerState,
  ) {
    this.apiKeys = new Map(apiKeys.map((key) => [key, apiKeyId(key)]));
    this.apiKeyHeaders = security.flatMap((c) => (c.kind === "apiKeyHeader" ? [c.header] : []));
    this.needsBearer = security.some((c) => c.kind === "bearer");
  }

  async check(headers: IncomingHttpHeaders, path: string): Promise<GateVerdict> {
    const refuse = (status: number, detail: string): GateVerdict => ({
      ok: false,
      problem: problem(status, detail, path),
    });
    if (!headers["user-agent"]) return refuse(403, "A User-Agent header is required.");
    let keyId = "";
    for (const header of this.apiKeyHeaders) {
      const key = headers[header];
      const id = typeof key === "string" ? this.apiKeys.get(key) : undefined;
      if (id === undefined) return refuse(401, `The ${header} header is missing or invalid.`);
      keyId ||= id;
    }
    const counters = this.state.stats.byApiKey[keyId];
    if (counters) counters.requests++;
    if (this.needsBearer) {
      const auth = headers.authorization;
      if (!auth || auth.length < 8 || auth.slice(0, 7).toLowerCase() !== "bearer ") {
        return refuse(401, "A bearer token is required in the Authorization header.");
      }
      if (!(await this.tokenValid(auth.slice(7).trim()))) {
        return refuse(401, "The bearer token is invalid or has expired.");
      }
    }
    const limiter = this.state.rateLimiter;
    const taken = limiter.take(keyId);
    if (!taken.ok) {
      this.state.stats.rateLimited++;
      if (counters) counters.rateLimited++;
      const limits = limiter.settings;
      const detail = limits
        ? `Rate limit of ${limits.requestsPerSecond} requests per second (burst ${limits.burst}) per API key exceeded.`
        : "Rate limit exceeded.";
      return {
        ok: false,
        problem: problem(429, detail, path),
        headers: { "retry-after": String(taken.retryAfterSeconds) },
      };
    }
    return { ok: true };
  }

  private async tokenValid(token: string): Promise<boolean> {
    try {
      const verdict = this.validateToken(token);
      return typeof verdict === "boolean" ? verdict : await verdict.then(Boolean, () => false);
    } catch {
      return false; // a throwing validator refuses the token
    }
  }
}
