// The login (`POST /user-authentication`, found in the spec by its HTTP Basic security):
// User-Agent (403), API key (401), the login rate limit of the key (429), the client id, client
// code and database headers (400), then HTTP Basic against the configured users (401) and an
// ID token (200). Answers never repeat the password.
import type { IncomingMessage, ServerResponse } from "node:http";
import { apiKeyHeadersOf, type Caller, type Gatekeeper, type Refusal, safeEqual } from "./gate.ts";
import { negotiate, type Responder } from "./http.ts";
import type { TokenIssuer } from "./jwt.ts";
import type { MockUser } from "./options.ts";
import { problem } from "./problem.ts";
import type { LoginRouteInfo } from "./spec.ts";
import type { ServerState } from "./state.ts";

/** The three headers the login names besides the credentials (lower case). */
const CLIENT_ID = "vbasoftware-client-id";
const CLIENT_CODE = "vbasoftware-client-code";
const DATABASE = "vbasoftware-database";

/** Reads `Authorization: Basic base64(username:password)`; undefined when it is not that. */
function basicCredentials(
  header: string | undefined,
): { username: string; password: string } | undefined {
  if (header?.slice(0, 6).toLowerCase() !== "basic ") return undefined;
  const encoded = header.slice(6).trim();
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded)) return undefined;
  const decoded = Buffer.from(encoded, "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  if (colon <= 0) return undefined;
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/** Serves the login. */
export class LoginHandler {
  private readonly apiKeyHeaders: readonly string[];
  private readonly responseTypes: ReadonlySet<string>;

  constructor(
    private readonly route: LoginRouteInfo,
    private readonly users: readonly MockUser[],
    private readonly issuer: TokenIssuer,
    private readonly lifetimeMs: number,
    private readonly gate: Gatekeeper,
    private readonly state: ServerState,
    private readonly out: Responder,
  ) {
    this.apiKeyHeaders = apiKeyHeadersOf(route.security);
    this.responseTypes = new Set(route.responseMediaTypes);
  }

  handle(req: IncomingMessage, res: ServerResponse, path: string): void {
    req.resume(); // the login has no body; read and drop whatever was sent
    const outcome = this.authenticate(req, path);
    if ("problem" in outcome) {
      this.out.problem(res, outcome.problem, outcome.headers);
      return;
    }
    const { stats } = this.state;
    stats.logins.succeeded++;
    if (outcome.caller.counters) outcome.caller.counters.logins++;
    const lifetimeMs = this.lifetimeMs;
    const database = String(req.headers[DATABASE] ?? "");
    const idToken = this.issuer.issue({ ...outcome.user, database }, lifetimeMs);
    const body = {
      data: {
        authenticationResult: {
          idToken,
          expiresIn: Math.floor(lifetimeMs / 1000),
          tokenType: "Bearer",
        },
      },
      debug: { activityID: this.state.nextActivityId() },
    };
    const mediaType = `${negotiate(req.headers.accept, this.responseTypes)}; charset=utf-8`;
    this.out.send(res, 200, mediaType, JSON.stringify(body));
  }

  /** The user who logs in, or the answer that refuses the login. */
  private authenticate(
    req: IncomingMessage,
    path: string,
  ): { user: MockUser; caller: Caller } | Refusal {
    const caller = this.gate.identify(req.headers, path, this.apiKeyHeaders);
    if ("problem" in caller) return caller;
    const { stats } = this.state;
    const limited = this.gate.limit(
      this.state.loginRateLimiter,
      caller.keyId,
      path,
      () => stats.logins.rateLimited++,
      "logins",
    );
    if (limited) return limited;
    for (const param of this.route.headerParams) {
      const value = req.headers[param.name.toLowerCase()];
      if (param.required && (typeof value !== "string" || value === "")) {
        return { problem: problem(400, `The ${param.name} header is required.`, path) };
      }
    }
    const refuse = (detail: string): Refusal => {
      stats.logins.failed++;
      return { problem: problem(401, detail, path) };
    };
    const unknown = this.gate.unknownDatabase(req.headers, path);
    if (unknown) return refuse(unknown.problem.detail);
    const given = basicCredentials(req.headers.authorization);
    if (!given) {
      return refuse(
        "HTTP Basic credentials are required in the Authorization header: Basic base64(username:password).",
      );
    }
    if (this.users.length === 0) {
      return refuse("No users are configured on this reference server; start it with users.");
    }
    const header = (name: string) => String(req.headers[name] ?? "");
    // Compare every candidate's password, so the time taken does not tell which users exist.
    const known = this.users.filter(
      (u) => safeEqual(u.password, given.password) && u.username === given.username,
    );
    if (known.length === 0) return refuse("The username or password is incorrect.");
    const client = known.filter(
      (u) =>
        safeEqual(u.clientId, header(CLIENT_ID)) && safeEqual(u.clientCode, header(CLIENT_CODE)),
    );
    if (client.length === 0)
      return refuse("The client id or client code is not valid for this user.");
    const database = header(DATABASE);
    const user = client.find((u) => u.database === undefined || u.database === database);
    if (!user) return refuse("The user may not log in to the requested database.");
    return { user, caller };
  }
}
