// The answer cap holds for compressed answers too: fetch unpacks gzip on the fly while
// Content-Length still gives the packed size, so a small declared length must not let a
// hostile server's gzip bomb be read whole (real HTTP on loopback).
import { createServer, type Server } from "node:http";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createVbapiClient } from "../src/client/client.ts";
import { ResponseParseError } from "../src/index.ts";

let server: Server;
let url: string;
// 20 MB of JSON that packs into a few kilobytes.
const bomb = gzipSync(Buffer.from(`{"data":[],"pad":"${"a".repeat(20 * 1024 * 1024)}"}`));

beforeAll(async () => {
  server = createServer((_req, res) => {
    res.writeHead(207, {
      "content-type": "application/json",
      "content-encoding": "gzip",
      "content-length": String(bomb.length),
    });
    res.end(bomb);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(() => new Promise((resolve) => server.close(resolve)));

describe("maxResponseBytes", () => {
  it("refuses a gzip answer that unpacks past the cap, though its Content-Length is small", async () => {
    expect(bomb.length).toBeLessThan(1024 * 1024);
    const client = createVbapiClient({
      baseUrl: url,
      apiKey: "k",
      token: "t",
      database: "d",
      rateLimit: false,
      maxRetries: 0,
      maxResponseBytes: 1024 * 1024,
    });
    const error = await client
      .upsertBatch("Tolerance", [{ tolerance_Key: 1, tolerance1: 1 }])
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ResponseParseError);
    expect(String(error)).toMatch(/larger than 1048576 bytes \(maxResponseBytes\)/);
  });
});
