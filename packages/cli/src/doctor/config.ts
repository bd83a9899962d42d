// The first check: what the environment and flags say. Variable NAMES only, never values.
import type { Check, DoctorContext } from "./types.ts";

/** The variables the CLI reads (credentials, target, proxy), by name. */
const VARIABLES = [
  "VBAPI_API_KEY",
  "VBAPI_TOKEN",
  "VBAPI_USERNAME",
  "VBAPI_PASSWORD",
  "VBAPI_CLIENT_ID",
  "VBAPI_CLIENT_CODE",
  "VBAPI_BASE_URL",
  "VBAPI_DATABASE",
  "VBAPI_REDIS_URL",
  "HTTPS_PROXY",
  "https_proxy",
  "HTTP_PROXY",
  "http_proxy",
  "NO_PROXY",
  "no_proxy",
  "NODE_EXTRA_CA_CERTS",
] as const;

export const LOGIN_VARIABLES = [
  "VBAPI_USERNAME",
  "VBAPI_PASSWORD",
  "VBAPI_CLIENT_ID",
  "VBAPI_CLIENT_CODE",
] as const;

/** How the doctor gets a token: given, by logging in, or not at all. */
export function tokenMode(env: NodeJS.ProcessEnv): "token" | "login" | "none" {
  if (env.VBAPI_TOKEN) return "token";
  return LOGIN_VARIABLES.every((name) => env[name]) ? "login" : "none";
}

export function configCheck(ctx: DoctorContext): Check {
  const env = ctx.env;
  const set = VARIABLES.filter((name) => env[name]);
  const saw = [
    `variables set: ${set.length > 0 ? set.join(", ") : "none"}`,
    `base URL ${ctx.baseUrl}`,
    `database ${ctx.database ?? "(none)"}`,
    `proxy ${ctx.proxy ? ctx.proxy.url : "none"}`,
    `Node ${process.versions.node}`,
  ].join("; ");
  const missing: string[] = [];
  if (!env.VBAPI_API_KEY) missing.push("VBAPI_API_KEY");
  const mode = tokenMode(env);
  if (mode === "none") {
    const partial = LOGIN_VARIABLES.filter((name) => !env[name]);
    missing.push(
      partial.length < LOGIN_VARIABLES.length
        ? `${partial.join(", ")} (the login variables are incomplete; or set VBAPI_TOKEN)`
        : "VBAPI_TOKEN (or the login variables VBAPI_USERNAME, VBAPI_PASSWORD, VBAPI_CLIENT_ID, VBAPI_CLIENT_CODE)",
    );
  }
  if (!ctx.database) missing.push("--database <name> or VBAPI_DATABASE");
  if (missing.length > 0) {
    return {
      id: "config",
      verdict: "fail",
      saw: `${saw}; missing: ${missing.join("; ")}`,
      fix: `set ${missing.join(" and ")} (credentials in the environment only, never flags)`,
    };
  }
  const [major, minor] = process.versions.node.split(".").map(Number) as [number, number];
  if (major < 20 || (major === 20 && minor < 19)) {
    return { id: "config", verdict: "fail", saw, fix: "install Node.js 20.19 or later" };
  }
  return { id: "config", verdict: "pass", saw };
}
