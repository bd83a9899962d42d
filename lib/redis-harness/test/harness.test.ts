import { existsSync } from "node:fs";
import net from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { REDIS_INSTALL_HINT, startRedisServer } from "../src/index.ts";

function send(port: number, command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: "127.0.0.1", port });
    socket.once("error", reject);
    socket.once("connect", () => socket.write(command));
    socket.once("data", (chunk) => {
      socket.destroy();
      resolve(chunk.toString());
    });
  });
}

describe("startRedisServer", () => {
  const saved = process.env.REDIS_SERVER_BIN;
  afterEach(() => {
    if (saved === undefined) delete process.env.REDIS_SERVER_BIN;
    else process.env.REDIS_SERVER_BIN = saved;
  });

  it("runs a real redis-server without persistence, halts and restarts it on the same port, and cleans up", async () => {
    const server = await startRedisServer();
    try {
      expect(server.url).toBe(`redis://127.0.0.1:${server.port}`);
      expect(await send(server.port, "PING\r\n")).toBe("+PONG\r\n");
      expect(await send(server.port, "CONFIG GET save\r\n")).toContain("save\r\n$0\r\n");
      expect(await send(server.port, "CONFIG GET appendonly\r\n")).toContain("no");
      await send(server.port, "SET k v\r\n");
      const firstPid = server.pid;
      await server.halt();
      expect(server.running).toBe(false);
      expect(() => process.kill(firstPid, 0)).toThrow();
      await expect(send(server.port, "PING\r\n")).rejects.toThrow(/ECONNREFUSED/);
      await server.restart();
      expect(server.pid).not.toBe(firstPid);
      // No persistence: the restarted server starts empty.
      expect(await send(server.port, "GET k\r\n")).toBe("$-1\r\n");
    } finally {
      await server.stop();
    }
    expect(server.running).toBe(false);
    expect(existsSync(server.dir)).toBe(false);
  });

  it("fails with a message that says how to install redis-server when it is missing", async () => {
    process.env.REDIS_SERVER_BIN = "/nonexistent/redis-server";
    await expect(startRedisServer()).rejects.toThrow(REDIS_INSTALL_HINT);
    expect(REDIS_INSTALL_HINT).toMatch(/apt-get install -y redis-server/);
  });
});
