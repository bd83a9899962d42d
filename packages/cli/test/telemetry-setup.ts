// Shared by the telemetry end-to-end tests: the reference server (with a login user) and an
// OTLP receiver, one each per test file; a run of its own per test (database, folder, rows with
// distinctive strings), and the checks that nothing secret got anywhere.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { type MockServer, startMockServer } from "@vbapi-sdk/mock-server";
import { afterAll, beforeAll, expect } from "vitest";
import { type Result, readJson, tempDir } from "./helpers.ts";
import { type Received, type Receiver, startReceiver } from "./otlp-receiver.ts";

export const USER = {
  username: "otel-carol",
  password: "Pw-OTEL-SECRET-4471",
  clientId: "cid-otel",
  clientCode: "CC-OTEL",
};
/** Distinctive values in the rows: none may reach the collector. */
export const GROUP = "GRP-QZX-7731";
export const ENTRY_USER = "USR-QQ-8812";
/** An observability vendor's key in OTEL_EXPORTER_OTLP_HEADERS. */
export const OTLP_KEY = "OTLP-HDR-SECRET-5521";

/** The reference server with a static token; `loginServer` logs USER in (no static token). */
export let server: MockServer;
export let loginServer: MockServer;
export let receiver: Receiver;
beforeAll(async () => {
  [server, loginServer, receiver] = await Promise.all([
    startMockServer({ rateLimit: false }),
    startMockServer({ rateLimit: false, loginRateLimit: false, users: [USER] }),
    startReceiver(),
  ]);
});
afterAll(async () => {
  await Promise.all([server?.close(), loginServer?.close(), receiver?.close()]);
});

export const OTEL_VARS = [
  "OTEL_SDK_DISABLED",
  "OTEL_SERVICE_NAME",
  "OTEL_RESOURCE_ATTRIBUTES",
  ...["", "TRACES_", "METRICS_"].flatMap((s) =>
    ["ENDPOINT", "HEADERS", "PROTOCOL", "TIMEOUT"].map((v) => `OTEL_EXPORTER_OTLP_${s}${v}`),
  ),
];

let counter = 0;
/**
 * A run of its own: a database, a temp folder, `rows` tolerances (keys from 1) with distinctive
 * strings; `login`: against `loginServer`, logging in (a token cache of its own).
 */
export function setup(rows: number, otel: Record<string, string> = {}, login = false) {
  const target = login ? loginServer : server;
  const dir = tempDir();
  const database = `OTEL${++counter}`;
  const csv = Array.from({ length: rows }, (_, i) => `${i + 1},${i}.25,${GROUP},${ENTRY_USER}`);
  const file = join(dir, "t.csv");
  writeFileSync(file, `tolerance_Key,tolerance1,group_ID,entry_User\n${csv.join("\n")}\n`);
  const env: Record<string, string | undefined> = {
    ...Object.fromEntries(OTEL_VARS.map((name) => [name, undefined])),
    VBAPI_API_KEY: target.credentials.apiKey,
    VBAPI_TOKEN: login ? undefined : target.credentials.token,
    ...(login && {
      VBAPI_USERNAME: USER.username,
      VBAPI_PASSWORD: USER.password,
      VBAPI_CLIENT_ID: USER.clientId,
      VBAPI_CLIENT_CODE: USER.clientCode,
    }),
    VBAPI_BASE_URL: target.url,
    VBAPI_DATABASE: database,
    VBAPI_REDIS_URL: undefined,
    XDG_CACHE_HOME: join(dir, "cache"),
    ...otel,
  };
  const out = join(dir, "run");
  const args = (...more: string[]) => [
    "upsert",
    "tolerances",
    file,
    "--rate-limit",
    "off",
    "--out",
    out,
    ...more,
  ];
  return { server: target, dir, database, file, out, env, args };
}

export const endpoint = (tag: string) => `${receiver.url}/${tag}`;
export const summaryOf = (out: string) =>
  readJson<{ traceId?: string; totals: Record<string, number>; requests: number }>(
    join(out, "summary.json"),
  );
export const stderrLines = (r: Result) => r.stderr.split("\n").filter((l) => l !== "");

/** Everything the receiver got for `tag`, headers included, as text. */
export function everything(received: Received[]): string {
  return received
    .map(
      (r) =>
        `${JSON.stringify(r.headers)}\n${r.body.toString("latin1")}\n${r.body.toString("utf8")}`,
    )
    .join("\n");
}

/** No credential and no record value in `text` (bearer tokens of this server are JWTs). */
export function expectNothingSecret(text: string, extra: string[] = []) {
  const basic = Buffer.from(`${USER.username}:${USER.password}`).toString("base64");
  for (const secret of [
    server.credentials.apiKey,
    server.credentials.token,
    loginServer.credentials.apiKey,
    USER.password,
    basic,
    GROUP,
    ENTRY_USER,
    ...extra,
  ]) {
    expect(text).not.toContain(secret);
  }
  expect(text).not.toMatch(/eyJ[\w-]{10,}/);
}

/** A loopback port nothing listens on (lib/test-bin). */
export { closedPort } from "@vbapi-sdk/tool-test-bin";
