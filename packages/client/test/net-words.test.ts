// describeNetworkFailure: the one table of network failures in words (the SDK's messages, the
// CLI's and the doctor's), read from real failures of fetch on loopback and real DNS.
import { type AddressInfo, createServer, type Socket } from "node:net";
import { expect, it } from "vitest";
import { errorCode, failureKind } from "../src/base/failure.ts";
import { ConnectionError, createVbapiClient, describeNetworkFailure } from "../src/index.ts";
import { closedPort } from "./helpers.ts";

it("a refused port and an unresolvable host, as fetch rejects them", async () => {
  const port = await closedPort();
  const refused = await fetch(`http://127.0.0.1:${port}/`).catch((error: unknown) => error);
  expect(describeNetworkFailure(refused)).toEqual({
    kind: "refused",
    code: "ECONNREFUSED",
    words: "the connection was refused (ECONNREFUSED)",
  });
  const unresolved = await fetch("http://no-such-host.invalid/").catch((error: unknown) => error);
  expect(describeNetworkFailure(unresolved)).toMatchObject({
    kind: "resolve",
    words: expect.stringMatching(/^the host name cannot be resolved/),
  });
});

it("the SDK's ConnectionError carries the same words, and describes to them too", async () => {
  const port = await closedPort();
  const client = createVbapiClient({
    baseUrl: `http://127.0.0.1:${port}/vbasoftware`,
    apiKey: "k-secret-value",
    token: "t-secret-value",
    database: "DB",
    maxRetries: 0,
    logLevel: "off",
  });
  const error = await client
    .upsertBatch("Tolerance", [{ tolerance_Key: 1, tolerance1: 1 }])
    .catch((e: unknown) => e);
  expect(error).toBeInstanceOf(ConnectionError);
  expect((error as Error).message).toContain(
    `cannot reach 127.0.0.1:${port}: the connection was refused (ECONNREFUSED)`,
  );
  expect(describeNetworkFailure(error).kind).toBe("refused");
  expect((error as Error).message).not.toMatch(/secret-value/);
});

it("a proxy's refusal (undici's tunnel error), TLS codes, unknown codes and non-errors", () => {
  const tunnel = new TypeError("fetch failed", {
    cause: Object.assign(new Error("Proxy response (407) !== 200 when HTTP Tunneling"), {
      code: "UND_ERR_ABORTED",
    }),
  });
  expect(describeNetworkFailure(tunnel)).toEqual({
    kind: "proxy",
    words: "the proxy refused the connection (HTTP 407 Proxy Authentication Required)",
  });
  const selfSigned = Object.assign(new Error("x"), { code: "DEPTH_ZERO_SELF_SIGNED_CERT" });
  expect(describeNetworkFailure(selfSigned).words).toBe(
    "the certificate is not trusted (self-signed) (DEPTH_ZERO_SELF_SIGNED_CERT)",
  );
  const unknownTls = Object.assign(new Error("x"), { code: "ERR_TLS_SOMETHING_NEW" });
  expect(describeNetworkFailure(unknownTls).kind).toBe("tls");
  const odd = Object.assign(new Error("x"), { code: "EWHATEVER" });
  expect(describeNetworkFailure(odd)).toEqual({
    kind: "other",
    code: "EWHATEVER",
    words: "the connection failed (EWHATEVER)",
  });
  expect(describeNetworkFailure(undefined).kind).toBe("other");
  expect(describeNetworkFailure("text").words).toBe("the connection failed");
  // Server text in a message is never repeated: only codes and statuses become words.
  const hostile = new Error("\u001b[31mEVIL\u202e server text");
  expect(describeNetworkFailure(hostile).words).toBe("the connection failed");
});

/** A TCP server that runs `onData` on the first bytes of each connection; closed after `use`. */
async function rawServer<T>(
  onData: (socket: Socket) => void,
  use: (port: number) => Promise<T>,
): Promise<T> {
  const server = createServer((socket) => {
    socket.on("error", () => {});
    socket.once("data", () => onData(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  try {
    return await use((server.address() as AddressInfo).port);
  } finally {
    server.close();
  }
}

it("a TLS handshake cut off (a firewall closing at the ClientHello): tls, never sent", async () => {
  const error = await rawServer(
    (socket) => socket.destroy(),
    (port) => fetch(`https://127.0.0.1:${port}/`).catch((e: unknown) => e),
  );
  // Node's words for it, recorded: ECONNRESET "Client network socket disconnected before
  // secure TLS connection was established".
  expect((error as Error).cause).toMatchObject({ code: "ECONNRESET" });
  expect(describeNetworkFailure(error)).toEqual({
    kind: "tls",
    code: "ECONNRESET",
    words: "the TLS handshake was cut off (ECONNRESET)",
  });
  expect(failureKind(error, false)).toBe("not-sent");
});

it("a connection reset after the request was sent stays 'may have been applied'", async () => {
  const error = await rawServer(
    (socket) => socket.resetAndDestroy(),
    (port) =>
      fetch(`http://127.0.0.1:${port}/`, { method: "POST", body: "x" }).catch((e: unknown) => e),
  );
  expect(errorCode(error)).toBe("ECONNRESET");
  expect(describeNetworkFailure(error).kind).toBe("other");
  expect(failureKind(error, false)).toBe("connection");
});

it("a proxy tunnel that failed before CONNECT was answered: proxy, never sent", () => {
  // As the CLI's proxy dispatcher reports undici's SocketError ("other side closed") or its
  // headers timeout on the CONNECT request: the tunnel phase, so nothing reached the server.
  const socketError = Object.assign(new Error("other side closed"), { code: "UND_ERR_SOCKET" });
  const closed = new TypeError("fetch failed", {
    cause: new Error("Proxy tunnel failed: the proxy closed the connection", {
      cause: socketError,
    }),
  });
  expect(describeNetworkFailure(closed)).toEqual({
    kind: "proxy",
    code: "UND_ERR_SOCKET",
    words: "the proxy closed the connection without answering CONNECT (UND_ERR_SOCKET)",
  });
  expect(failureKind(closed, false)).toBe("not-sent");
  const timeout = Object.assign(new Error("Headers Timeout Error"), {
    code: "UND_ERR_HEADERS_TIMEOUT",
  });
  const hung = new TypeError("fetch failed", {
    cause: new Error("Proxy tunnel failed: no answer to CONNECT", { cause: timeout }),
  });
  expect(describeNetworkFailure(hung)).toEqual({
    kind: "proxy",
    code: "UND_ERR_HEADERS_TIMEOUT",
    words: "the proxy did not answer CONNECT in time (UND_ERR_HEADERS_TIMEOUT)",
  });
  expect(failureKind(hung, false)).toBe("not-sent");
  // The same codes outside the tunnel phase prove nothing: maybe applied.
  expect(failureKind(new TypeError("fetch failed", { cause: socketError }), false)).toBe(
    "connection",
  );
});
