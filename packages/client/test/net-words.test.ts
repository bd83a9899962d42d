// describeNetworkFailure: the one table of network failures in words (the SDK's messages, the
// CLI's and the doctor's), read from real failures of fetch on loopback and real DNS.
import { expect, it } from "vitest";
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
