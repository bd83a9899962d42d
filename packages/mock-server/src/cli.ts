#!/usr/bin/env node
// `vbapi-mock`: runs the reference server from the command line.
import { parseArgs } from "node:util";
import { ADMIN_ROUTES } from "./admin.ts";
import {
  DEFAULT_ADMIN_HEADER,
  DEFAULT_API_KEY,
  DEFAULT_LOGIN_RATE_LIMIT,
  DEFAULT_MAX_BODY_BYTES,
  DEFAULT_TOKEN,
  type MockServerOptions,
  type MockUser,
} from "./options.ts";
import type { RateLimitOptions } from "./rate-limit.ts";
import { startMockServer } from "./server.ts";

const HELP = `vbapi-mock: a stateful reference server for VBA's Create or Update Batch endpoints

Usage: vbapi-mock [options]

Options:
  --port <n>              TCP port (default 4010; 0 picks a free one)
  --host <addr>           interface to listen on (default 127.0.0.1)
  --rate-limit <n>|off    sustained requests per second (default 25), or off
  --burst <n>             rate-limit bucket size (default 50)
  --latency-ms <n>        hold every API answer back n ms (default 0)
  --latency-jitter-ms <n> plus up to n ms more, at random per request (default 0)
  --api-key <key>         accepted x-api-key, repeatable (default ${DEFAULT_API_KEY})
  --token <token>         accepted bearer token, repeatable (default ${DEFAULT_TOKEN})
  --user <u:p:id:code[:db]>
                          a user who may log in (POST /user-authentication): username,
                          password, client id, client code and optionally the only database;
                          repeatable. Any --user turns on login mode: the batch routes then
                          accept only ID tokens from the login (no --token). No field may
                          contain ":" (use the programmatic users option for that).
  --database <name>       a database that exists, repeatable: batch requests and logins naming
                          another in vbasoftware-database get 401 (default: any database)
  --token-lifetime-ms <n> lifetime of issued ID tokens (default 86400000, 24 h)
  --clock-offset-ms <n>   run the server's clock n ms ahead (negative: behind) of this
                          machine's: its tokens' iat/exp, their expiry and its Date header
  --no-token-iat          issue ID tokens without iat (only exp)
  --login-rate-limit <n>|off
                          logins per second per API key (default ${DEFAULT_LOGIN_RATE_LIMIT.requestsPerSecond}), or off
  --login-burst <n>       login bucket size (default ${DEFAULT_LOGIN_RATE_LIMIT.burst})
  --admin-token <token>   token for /__admin (default: random, printed at start)
  --admin-header <name>   header carrying the admin token (default ${DEFAULT_ADMIN_HEADER})
  --no-admin              disable the /__admin endpoint
  --max-body-bytes <n>    largest accepted body (default ${DEFAULT_MAX_BODY_BYTES})
  --base-path <path>      serve every route under this prefix (e.g. /vbasoftware)
  --spec <file>           OpenAPI JSON to serve (default: the bundled @vbapi-sdk/openapi)
  --verbose               log one line per request (method, path, status, time; no data)
  -h, --help              show this help

The default credentials are for local testing only.

Admin endpoint (send the admin token in the admin header):
${ADMIN_ROUTES.map((r) => `  ${r}`).join("\n")}
`;

function fail(message: string): never {
  process.stderr.write(`vbapi-mock: ${message}\nTry vbapi-mock --help.\n`);
  process.exit(2);
}

function parseNumber(name: string, text: string | undefined, min: number): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!Number.isFinite(value) || value < min) fail(`--${name} needs a number >= ${min}`);
  return value;
}

function parseUser(text: string, index: number): MockUser {
  const fields = text.split(":");
  if ((fields.length !== 4 && fields.length !== 5) || fields.some((f) => f === "")) {
    fail(
      `--user #${index + 1} needs username:password:clientId:clientCode[:database] (non-empty fields without ":")`,
    );
  }
  const [username, password, clientId, clientCode, database] = fields as [
    string,
    string,
    string,
    string,
    string | undefined,
  ];
  const user: MockUser = { username, password, clientId, clientCode };
  if (database !== undefined) user.database = database;
  return user;
}

async function main(): Promise<void> {
  let parsed: ReturnType<typeof parse>;
  function parse() {
    return parseArgs({
      options: {
        port: { type: "string" },
        host: { type: "string" },
        "rate-limit": { type: "string" },
        burst: { type: "string" },
        "latency-ms": { type: "string" },
        "latency-jitter-ms": { type: "string" },
        "api-key": { type: "string", multiple: true },
        token: { type: "string", multiple: true },
        user: { type: "string", multiple: true },
        database: { type: "string", multiple: true },
        "token-lifetime-ms": { type: "string" },
        "clock-offset-ms": { type: "string" },
        "no-token-iat": { type: "boolean" },
        "login-rate-limit": { type: "string" },
        "login-burst": { type: "string" },
        "admin-token": { type: "string" },
        "admin-header": { type: "string" },
        "no-admin": { type: "boolean" },
        "max-body-bytes": { type: "string" },
        "base-path": { type: "string" },
        spec: { type: "string" },
        verbose: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
      allowPositionals: false,
    });
  }
  try {
    parsed = parse();
  } catch (error) {
    fail((error as Error).message);
  }
  const v = parsed.values;
  if (v.help) {
    process.stdout.write(HELP);
    return;
  }

  let rateLimit: RateLimitOptions | false | undefined;
  const burst = parseNumber("burst", v.burst, 1);
  if (v["rate-limit"] === "off") {
    rateLimit = false;
  } else {
    const rate = parseNumber("rate-limit", v["rate-limit"], Number.MIN_VALUE);
    if (rate !== undefined || burst !== undefined) {
      rateLimit = {};
      if (rate !== undefined) rateLimit.requestsPerSecond = rate;
      if (burst !== undefined) rateLimit.burst = burst;
    }
  }
  const options: MockServerOptions = {
    port: parseNumber("port", v.port, 0) ?? 4010,
    host: v.host ?? "127.0.0.1",
  };
  if (rateLimit !== undefined) options.rateLimit = rateLimit;
  const fixedMs = parseNumber("latency-ms", v["latency-ms"], 0);
  const jitterMs = parseNumber("latency-jitter-ms", v["latency-jitter-ms"], 0);
  if (fixedMs !== undefined || jitterMs !== undefined) {
    options.latency = { fixedMs: fixedMs ?? 0, jitterMs: jitterMs ?? 0 };
  }
  if (v["api-key"]) options.apiKeys = v["api-key"];
  if (v.token) options.tokens = v.token;
  if (v.user) options.users = v.user.map(parseUser);
  if (v.database) options.databases = v.database;
  const lifetime = parseNumber("token-lifetime-ms", v["token-lifetime-ms"], 1);
  if (lifetime !== undefined) options.tokenLifetimeMs = lifetime;
  const offset = parseNumber("clock-offset-ms", v["clock-offset-ms"], -(2 ** 40));
  if (offset !== undefined) options.clockOffsetMs = offset;
  if (v["no-token-iat"]) options.tokenIssuedAt = false;
  const loginBurst = parseNumber("login-burst", v["login-burst"], 1);
  if (v["login-rate-limit"] === "off") {
    options.loginRateLimit = false;
  } else {
    const rate = parseNumber("login-rate-limit", v["login-rate-limit"], Number.MIN_VALUE);
    if (rate !== undefined || loginBurst !== undefined) {
      options.loginRateLimit = {};
      if (rate !== undefined) options.loginRateLimit.requestsPerSecond = rate;
      if (loginBurst !== undefined) options.loginRateLimit.burst = loginBurst;
    }
  }
  if (v["no-admin"]) options.adminToken = false;
  else if (v["admin-token"] !== undefined) options.adminToken = v["admin-token"];
  if (v["admin-header"]) options.adminHeader = v["admin-header"];
  const maxBody = parseNumber("max-body-bytes", v["max-body-bytes"], 1);
  if (maxBody !== undefined) options.maxBodyBytes = maxBody;
  if (v["base-path"]) options.basePath = v["base-path"];
  if (v.spec) options.spec = v.spec;
  if (v.verbose) {
    options.log = (e) =>
      process.stdout.write(
        `${e.method} ${e.path} ${e.status || "reset"} ${e.durationMs.toFixed(1)}ms${
          e.records !== undefined ? ` records=${e.records}` : ""
        }${e.fault ? ` fault=${e.fault}` : ""}\n`,
      );
  }

  let server: Awaited<ReturnType<typeof startMockServer>>;
  try {
    server = await startMockServer(options);
  } catch (error) {
    fail(`could not start: ${(error as Error).message}`);
  }
  // Handlers first, so that a signal sent right after the banner is handled.
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`vbapi-mock: ${signal}, shutting down\n`);
    server.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("SIGTERM", () => stop("SIGTERM"));
  const c = server.credentials;
  const limit = server.rateLimit;
  const latency = server.latency;
  const loginLimit = server.loginRateLimit;
  process.stdout.write(
    [
      `vbapi-mock listening on ${server.url}`,
      `  x-api-key:      ${c.apiKeys.join(", ")}`,
      c.users.length > 0
        ? `  Authorization:  Bearer <idToken from POST ${server.url}/user-authentication>, valid ${server.tokenLifetimeMs} ms`
        : `  Authorization:  ${c.tokens.map((t) => `Bearer ${t}`).join(", ")}`,
      ...(c.users.length > 0
        ? [
            `  users:          ${c.users
              .map(
                (u) =>
                  `${u.username} (client ${u.clientId}/${u.clientCode}${u.database ? `, ${u.database}` : ""})`,
              )
              .join("; ")}`,
            `  login limit:    ${loginLimit ? `${loginLimit.requestsPerSecond}/s, burst ${loginLimit.burst}` : "off"}`,
          ]
        : []),
      `  also required:  User-Agent, vbasoftware-database${options.databases ? ` (one of: ${options.databases.join(", ")})` : ""}`,
      `  rate limit:     ${limit ? `${limit.requestsPerSecond}/s, burst ${limit.burst}` : "off"}`,
      `  latency:        ${latency ? `${latency.fixedMs} ms + up to ${latency.jitterMs} ms` : "none"}`,
      c.adminToken === null
        ? "  admin:          disabled"
        : `  admin:          ${server.url}/__admin  (${c.adminHeader}: ${c.adminToken})`,
      "  routes:",
      ...server.routes.map((r) => `    ${r.method} ${r.path}  (${r.entity})`),
      "",
    ].join("\n"),
  );
}

main().catch((error: unknown) => fail((error as Error).message));
