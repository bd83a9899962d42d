// The vbapi-mock bin: --help, start-up banner, serving, clean shutdown on SIGTERM/SIGINT.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("..", import.meta.url));
const dist = fileURLToPath(new URL("../dist/cli.mjs", import.meta.url));
const src = fileURLToPath(new URL("../src/cli.ts", import.meta.url));

// The source through tsx always; the built bin too when it has been built (turbo builds first).
const variants: Array<[string, string[]]> = [["src/cli.ts", ["--import", "tsx", src]]];
if (existsSync(dist)) variants.push(["dist/cli.mjs", [dist]]);

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

describe.each(variants)("vbapi-mock (%s)", (_name, base) => {
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
    const { child, banner } = await start([
      ...base,
      "--port",
      "0",
      "--rate-limit",
      "off",
      "--api-key",
      "k1",
      "--token",
      "t1",
      "--admin-token",
      "adm",
    ]);
    const url = /listening on (http:\/\/\S+)/.exec(banner)?.[1] as string;
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(banner).toContain("k1");
    expect(banner).toContain("Bearer t1");
    expect(banner).toContain("adm");
    expect(banner).toContain("rate limit:     off");
    const res = await fetch(`${url}/tolerances-batch`, {
      method: "PUT",
      headers: {
        "x-api-key": "k1",
        authorization: "Bearer t1",
        "vbasoftware-database": "d",
        "content-type": "application/json",
      },
      body: JSON.stringify([{ tolerance_Key: 1, tolerance1: 1 }]),
    });
    expect(res.status).toBe(207);
    const store = await fetch(`${url}/__admin/store/d/Tolerance`, {
      headers: { "x-admin-token": "adm" },
    });
    expect(((await store.json()) as { count: number }).count).toBe(1);
    child.kill("SIGTERM");
    expect(await exitCode(child)).toBe(0);
  });

  it("uses the default credentials, a random admin token, and stops on SIGINT", async () => {
    const { child, banner } = await start([
      ...base,
      "--port",
      "0",
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
    child.kill("SIGINT");
    expect(await exitCode(child)).toBe(0);
  });
});
