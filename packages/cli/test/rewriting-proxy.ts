// A loopback HTTP proxy in front of the reference server that rewrites the text of its answers:
// for what the server cannot be told to say (an activity id of the test's choosing). Requests
// and statuses pass through unchanged.
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";

export interface RewritingProxy {
  url: string;
  close(): Promise<void>;
}

const HOP_BY_HOP = new Set(["host", "connection", "content-length", "transfer-encoding"]);

function forwardedHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && !HOP_BY_HOP.has(name)) out[name] = String(value);
  }
  return out;
}

export async function rewritingProxy(
  target: string,
  rewrite: (body: string) => string,
): Promise<RewritingProxy> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", async () => {
      try {
        const body = Buffer.concat(chunks);
        const answer = await fetch(`${target}${req.url ?? ""}`, {
          method: req.method ?? "GET",
          headers: forwardedHeaders(req.headers),
          ...(body.length > 0 ? { body } : {}),
        });
        const text = rewrite(await answer.text());
        res.writeHead(answer.status, {
          "content-type": answer.headers.get("content-type") ?? "text/plain",
        });
        res.end(text);
      } catch {
        res.writeHead(502).end();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
