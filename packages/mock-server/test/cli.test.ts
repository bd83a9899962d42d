// The vbapi-mock bin: --help, start-up banner, serving, clean shutdown on SIGTERM/SIGINT.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("..", import.meta.url));
const dist = fileURLToPath(new URL("../dist/cli.mjs", import.meta.url));
const src = fileURLToPath(new URL("../src", import.meta.url));

/** The newest modification time of the files under `dir`, in ms. */
function newest(dir: string): number {
  return Math.max(
    ...readdirSync(dir, { recursive: true, encoding: "utf8" }).map(
      (name) => statSync(join(dir, name)).mtimeMs,
    ),
  );
}

// The bin users run: the built one (turbo builds it before the tests), or the source through tsx
// when there is no build or the source changed since (a run of this file alone after an edit).
// One of the two, not both: the same code twice doubled the file's time (each start of tsx
// compiles the server, about a second on a loaded 2-core machine).
const built = statSync(dist, { throwIfNoEntry: false });
const variants: Array<[string, string[]]> =
  built && built.mtimeMs >= newest(src)
    ? [["dist/cli.mjs", [dist]]]
    : [["src/cli.ts", ["--import", "tsx", join(src, "cli.ts")]]];

const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill("SIGKILL");
});

function start(args: string[]): Promise<{ child: ChildProcess; banner: string }> {
  const child = spawn(process.execPath, args, { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
  children.push(child);
  return new Promise((resolve, reject) => {
    let out = "";
    child.stdout?.on("data", (d: Buffer) => {
      out += d.toString();
      if (out.includes("routes:") && out.trimEnd().split("\n").length >= 12)
        resolve({ child, banner: out });
    });
    child.stderr?.on("data", (d: Buffer) => {
      out += d.toString();
    });
    child.on("exit", (code) => reject(new Error(`exited ${code}: ${out}`)));
  });
}

function exitCode(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) resolve(child.exitCode);
    else child.on("exit", (code) => resolve(code));
  });
}

/** Sends the signal and expects a clean exit. */
async function stopsCleanly(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  child.kill(signal);
  expect(await exitCode(child)).toBe(0);
}

/** PUTs one tolerance to a running bin. */
function putTolerance(url: string, headers: Record<string, string>): Promise<Response> {
  return fetch(`${url}/tolerances-batch`, {
    method: "PUT",
    headers: { "vbasoftware-database": "d", "content-type": "application/json", ...headers },
    body: JSON.stringify([{ tolerance_Key: 1, tolerance1: 1 }]),
  });
}

describe.each(variants)("vbapi-mock (%s)", (_name, base) => {
  /** Starts the bin on a free port with `args`; its banner and the URL it prints. */
  async function serve(args: string[]) {
    const started = await start([...base, "--port", "0", ...args]);
    return { ...started, url: /listening on (http:\/\/\S+)/.exec(started.banner)?.[1] as string };
  }

  it("prints help", () => {
    const r = spawnSync(process.execPath, [...base, "--help"], { cwd: root, encoding: "utf8" });
    expect(r.status).toBe(0);
    for (const flag of [
      "--port",
      "--host",
      "--rate-limit",
      "--burst",
      "--api-key",
      "--token",
      "--admin-token",
      "--max-body-bytes",
      "--latency-ms",
      "--latency-jitter-ms",
      "--user",
      "--token-lifetime-ms",
      "--login-rate-limit",
      "--login-burst",
    ]) {
      expect(r.stdout).toContain(flag);
    }
    expect(r.stdout).toContain("test-api-key");
  });

  it("refuses unknown options and bad numbers, naming the flag", () => {
    const r = spawnSync(process.execPath, [...base, "--bogus"], { cwd: root, encoding: "utf8" });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("bogus");
    const bad = spawnSync(process.execPath, [...base, "--latency-ms", "-1"], {
      cwd: root,
      encoding: "utf8",
    });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain("--latency-ms");
  });

  it("serves with the credentials it prints and stops on SIGTERM", async () => {
    const { child, banner, url } = await serve([
      "--rate-limit",
      "off",
      "--api-key",
      "k1",
      "--token",
      "t1",
      "--admin-token",
      "adm",
    ]);
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(banner).toContain("k1");
    expect(banner).toContain("Bearer t1");
    expect(banner).toContain("adm");
    expect(banner).toContain("rate limit:     off");
    const res = await putTolerance(url, { "x-api-key": "k1", authorization: "Bearer t1" });
    expect(res.status).toBe(207);
    const store = await fetch(`${url}/__admin/store/d/Tolerance`, {
      headers: { "x-admin-token": "adm" },
    });
    expect(((await store.json()) as { count: number }).count).toBe(1);
    await stopsCleanly(child, "SIGTERM");
  });

  it("serves the login for --user, hiding the password, and accepts only its ID tokens", async () => {
    const { child, banner, url } = await serve([
      "--rate-limit",
      "off",
      "--user",
      "alice:pw-9f8e7d:c1:C1",
      "--user",
      "bob:pw-bob:c2:C2:db-b",
      "--token-lifetime-ms",
      "60000",
      "--login-rate-limit",
      "2",
      "--login-burst",
      "3",
    ]);
    expect(banner).toContain("alice (client c1/C1)");
    expect(banner).toContain("bob (client c2/C2, db-b)");
    expect(banner).toContain("login limit:    2/s, burst 3");
    expect(banner).not.toContain("pw-9f8e7d");
    expect(banner).not.toContain("Bearer test-token");
    const common = { "x-api-key": "test-api-key", "vbasoftware-database": "d" };
    const res = await fetch(`${url}/user-authentication`, {
      method: "POST",
      headers: {
        ...common,
        authorization: `Basic ${Buffer.from("alice:pw-9f8e7d").toString("base64")}`,
        "vbasoftware-client-id": "c1",
        "vbasoftware-client-code": "C1",
      },
    });
    expect(res.status).toBe(200);
    const token = ((await res.json()) as { data: { authenticationResult: { idToken: string } } })
      .data.authenticationResult.idToken;
    const put = (bearer: string) =>
      putTolerance(url, { ...common, authorization: `Bearer ${bearer}` });
    expect((await put(token)).status).toBe(207);
    expect((await put("test-token")).status).toBe(401);
    await stopsCleanly(child, "SIGTERM");
  });

  it("refuses a database not named by --database (401), and lists them in the banner", async () => {
    const { child, banner, url } = await serve([
      "--rate-limit",
      "off",
      "--database",
      "d",
      "--database",
      "e",
    ]);
    expect(banner).toContain("vbasoftware-database (one of: d, e)");
    const auth = {
      "x-api-key": "test-api-key",
      authorization: "Bearer test-token",
      "user-agent": "t",
    };
    expect((await putTolerance(url, auth)).status).toBe(207);
    const other = await putTolerance(url, { ...auth, "vbasoftware-database": "nope" });
    expect(other.status).toBe(401);
    expect(((await other.json()) as { detail: string }).detail).toContain("database");
    await stopsCleanly(child, "SIGTERM");
  });

  it("refuses a malformed --user, naming the flag", () => {
    const r = spawnSync(process.execPath, [...base, "--user", "alice:pw"], {
      cwd: root,
      encoding: "utf8",
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("--user #1");
    expect(r.stderr).not.toContain("pw");
  });

  it("uses the default credentials, a random admin token, and stops on SIGINT", async () => {
    const { child, banner } = await serve([
      "--rate-limit",
      "5",
      "--burst",
      "7",
      "--latency-ms",
      "20",
      "--latency-jitter-ms",
      "5",
    ]);
    expect(banner).toContain("latency:        20 ms + up to 5 ms");
    expect(banner).toContain("test-api-key");
    expect(banner).toContain("Bearer test-token");
    expect(banner).toContain("5/s, burst 7");
    expect(/x-admin-token: (\S+)\)/.exec(banner)?.[1]?.length).toBeGreaterThan(10);
    await stopsCleanly(child, "SIGINT");
  });
});
