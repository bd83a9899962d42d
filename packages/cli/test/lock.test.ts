// The run folder's lock: one process at a time, also when several take over a dead process's
// lock at the same instant (a resume started twice after a kill -9).
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { bundleCli } from "@vbapi-sdk/tool-test-bin";
import { beforeAll, describe, expect, it } from "vitest";
import { removeStaleLockFile as removeStale } from "../src/lock-file.ts";
import { tempDir } from "./helpers.ts";

let bin: string;
beforeAll(() => {
  bin = bundleCli(fileURLToPath(new URL("./lock-taker.ts", import.meta.url)));
});

/** Starts a lock taker on `dir`; resolves with what it printed once it prints it. */
function taker(dir: string): { said: Promise<string>; done: Promise<number | null> } {
  const child = spawn(process.execPath, [bin, dir], { stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  const said = new Promise<string>((resolve) => {
    child.stdout.setEncoding("utf8").on("data", (d: string) => {
      out += d;
      if (out.includes("\n")) resolve(out.trim());
    });
    child.on("close", () => resolve(out.trim()));
  });
  const done = new Promise<number | null>((resolve) => child.on("close", resolve));
  return { said, done };
}

describe("run.lock", () => {
  it("a dead process's lock is taken over by exactly one of six processes starting at once", async () => {
    for (let round = 0; round < 4; round++) {
      const dir = tempDir();
      // The pid of a process that has exited (and was reaped).
      const dead = spawnSync(process.execPath, ["-e", ""]).pid;
      writeFileSync(join(dir, "run.lock"), String(dead));
      const takers = Array.from({ length: 6 }, () => taker(dir));
      const said = await Promise.all(takers.map((t) => t.said));
      writeFileSync(join(dir, "release"), "");
      expect(await Promise.all(takers.map((t) => t.done))).toEqual([0, 0, 0, 0, 0, 0]);
      expect(
        said.filter((s) => s === "locked"),
        said.join(","),
      ).toHaveLength(1);
      expect(said.filter((s) => s === "refused")).toHaveLength(5);
      // Released by its holder; no guard or temporary file left behind.
      expect(existsSync(join(dir, "run.lock"))).toBe(false);
      expect(existsSync(join(dir, "run.lock.takeover"))).toBe(false);
    }
  });

  it("a live holder's lock is kept: the others are refused naming its pid", async () => {
    const dir = tempDir();
    const holder = taker(dir);
    expect(await holder.said).toBe("locked");
    const pid = readFileSync(join(dir, "run.lock"), "utf8");
    const other = spawnSync(process.execPath, [bin, dir], { encoding: "utf8" });
    expect(other.stdout.trim()).toBe("refused");
    writeFileSync(join(dir, "release"), "");
    await holder.done;
    expect(pid).toMatch(/^\d+$/);
  });

  it("a lock holding no pid is taken over once it is older than a writer could take", async () => {
    const dir = tempDir();
    writeFileSync(join(dir, "run.lock"), "");
    const old = new Date(Date.now() - 60_000);
    (await import("node:fs")).utimesSync(join(dir, "run.lock"), old, old);
    const t = taker(dir);
    expect(await t.said).toBe("locked");
    writeFileSync(join(dir, "release"), "");
    await t.done;
  });

  it("a takeover removes the lock only while it holds what was judged stale, and only under the guard", () => {
    const path = join(tempDir(), "run.lock");
    // Another process made a new lock after this one read the dead pid: it stays.
    writeFileSync(path, "4242424");
    expect(removeStale(path, "999999")).toBe(true);
    expect(readFileSync(path, "utf8")).toBe("4242424");
    writeFileSync(path, "999999");
    expect(removeStale(path, "999999")).toBe(true);
    expect(existsSync(path)).toBe(false);
    // Another process holds the guard (it is taking over right now): nothing is removed.
    writeFileSync(path, "999999");
    writeFileSync(`${path}.takeover`, "1");
    expect(removeStale(path, "999999")).toBe(false);
    expect(existsSync(path)).toBe(true);
    expect(existsSync(`${path}.takeover`)).toBe(true);
  });
});
