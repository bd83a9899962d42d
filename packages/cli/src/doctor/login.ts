// The login: one `POST /user-authentication` with the login variables, or, with VBAPI_TOKEN,
// a look at the token given. A refusal is explained from VBA's own answer.
import { tokenTimes } from "@vbapi-sdk/client";
import { tokenMode } from "./config.ts";
import { detailOf, pointsAt, request } from "./http.ts";
import type { Answer, Check, DoctorContext } from "./types.ts";

/** The longest lifetime believed (as the SDK: longer ones come from claims in the wrong unit). */
const WEEK_MS = 7 * 24 * 3_600_000;

/** An epoch-ms time as ISO text, or a note when it is past what a Date holds. */
function when(ms: number): string {
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? "at an impossible time" : `at ${date.toISOString()}`;
}

function hours(ms: number): string {
  return ms >= 3_600_000 ? `${(ms / 3_600_000).toFixed(1)} h` : `${Math.round(ms / 1000)} s`;
}

/** The token's lifetime in words, from its claims. */
function lifetime(token: string): string {
  // The SDK's reading of the claims (seconds, or milliseconds past 1e11), so the doctor says what
  // the SDK will do with the token.
  const { exp, iat } = tokenTimes(token);
  if (exp !== undefined && iat !== undefined) {
    const life = exp - iat;
    return life > 0 && life <= WEEK_MS
      ? `lifetime ${hours(life)} (exp - iat)`
      : `exp - iat is ${life <= 0 ? "not positive" : "over a week"}: the SDK assumes VBA's 24 h (VBA judges it)`;
  }
  if (exp !== undefined) return `expires ${when(exp)} (no iat)`;
  return "not a JWT with exp: its lifetime cannot be read (VBA judges it)";
}

function refused(ctx: DoctorContext, answer: Answer): Check {
  const detail = detailOf(ctx, answer);
  const points = pointsAt(detail);
  const said = detail ? `: "${detail}"` : " (no detail in the answer)";
  const at = points.length > 0 ? `; VBA's answer points at ${points.join(", ")}` : "";
  const fix =
    answer.status === 403
      ? "403: a missing User-Agent, a missing permission or a blocked IP address; ask VBA support with the time of this check"
      : points.length > 0
        ? `check ${points.join(" and ")}`
        : "check VBAPI_API_KEY and the login variables; the answer does not say which is wrong";
  return {
    id: "login",
    verdict: "fail",
    saw: `refused (${answer.status})${said}${at}`,
    fix,
    ms: answer.ms,
  };
}

export async function loginCheck(ctx: DoctorContext): Promise<Check> {
  const env = ctx.env;
  if (tokenMode(env) === "token") {
    const token = env.VBAPI_TOKEN as string;
    ctx.token = token;
    const { exp } = tokenTimes(token);
    if (exp !== undefined && exp < Date.now()) {
      return {
        id: "login",
        verdict: "fail",
        saw: `VBAPI_TOKEN is given and expired ${when(exp)}`,
        fix: "get a new token, or unset VBAPI_TOKEN and set the login variables so the CLI logs in itself",
      };
    }
    return {
      id: "login",
      verdict: "pass",
      saw: `no login: VBAPI_TOKEN is given; ${lifetime(token)}`,
    };
  }
  const basic = Buffer.from(`${env.VBAPI_USERNAME}:${env.VBAPI_PASSWORD}`).toString("base64");
  const answer = await request(ctx, "POST", "/user-authentication", {
    "x-api-key": env.VBAPI_API_KEY ?? "",
    authorization: `Basic ${basic}`,
    "vbasoftware-client-id": env.VBAPI_CLIENT_ID ?? "",
    "vbasoftware-client-code": env.VBAPI_CLIENT_CODE ?? "",
    "vbasoftware-database": ctx.database ?? "",
    accept: "application/json",
  });
  if ("error" in answer) {
    return {
      id: "login",
      verdict: "fail",
      saw: `POST /user-authentication got no answer: ${answer.error}`,
      fix: "try again; if it persists, the login endpoint is down or blocked",
      ms: answer.ms,
    };
  }
  if (answer.status === 401 || answer.status === 403) {
    ctx.loginRefusal = detailOf(ctx, answer) ?? "";
    return refused(ctx, answer);
  }
  const token = (answer.json as { data?: { authenticationResult?: { idToken?: unknown } } })?.data
    ?.authenticationResult?.idToken;
  if (answer.status !== 200 || typeof token !== "string" || token === "") {
    const detail = detailOf(ctx, answer);
    return {
      id: "login",
      verdict: "fail",
      saw: `POST /user-authentication answered ${answer.status}${detail ? `: "${detail}"` : ""}${answer.status === 200 ? " without data.authenticationResult.idToken" : ""}`,
      fix:
        answer.status === 429
          ? "logins are rate limited: wait a minute and run the doctor again"
          : "check --base-url; this does not look like VBA's login",
      ms: answer.ms,
    };
  }
  ctx.token = token;
  return {
    id: "login",
    verdict: "pass",
    saw: `logged in; ID token ${lifetime(token)}`,
    ms: answer.ms,
  };
}
