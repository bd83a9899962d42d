// The journal's request timeline, and what it tells the session: a request that failed before
// a byte of it left (refused, not resolved, a TLS or proxy refusal) is not one VBA may still
// apply, so it does not start the 30 s hold that one given up on does.
import { describe, expect, it } from "vitest";
import type { SettledRequest } from "../src/run-dir/journal.ts";
import { timedFetch } from "../src/session/request-times.ts";

/** A fetch that fails as undici does: "fetch failed", the network's error as its cause. */
const failing =
  (cause: Error): typeof fetch =>
  async () => {
    throw new TypeError("fetch failed", { cause });
  };
const code = (message: string, c: string) => Object.assign(new Error(message), { code: c });

async function settledBy(fetchImpl: typeof fetch): Promise<SettledRequest> {
  const seen: SettledRequest[] = [];
  const f = timedFetch(fetchImpl, (r) => seen.push(r));
  await f("http://127.0.0.1:1/x", { method: "PUT", body: "[1,2]" }).catch(() => {});
  expect(seen).toHaveLength(1);
  return seen[0] as SettledRequest;
}

describe("timedFetch: was the request sent?", () => {
  it.each([
    ["refused", code("connect ECONNREFUSED 127.0.0.1:1", "ECONNREFUSED")],
    ["not resolved", code("getaddrinfo ENOTFOUND vba.invalid", "ENOTFOUND")],
    ["host unreachable", code("connect EHOSTUNREACH", "EHOSTUNREACH")],
    ["connect timeout", code("Connect Timeout Error", "UND_ERR_CONNECT_TIMEOUT")],
    ["an untrusted certificate", code("self-signed certificate", "DEPTH_ZERO_SELF_SIGNED_CERT")],
  ])("%s: status 0, never sent", async (_name, cause) => {
    expect(await settledBy(failing(cause))).toMatchObject({
      status: 0,
      neverSent: true,
      records: 2,
    });
  });

  it.each([
    ["reset", code("read ECONNRESET", "ECONNRESET")],
    ["closed by the other side", code("other side closed", "UND_ERR_SOCKET")],
    ["a TCP timeout", code("read ETIMEDOUT", "ETIMEDOUT")],
    ["no code at all", new Error("something else")],
  ])("%s: status 0, may have been sent", async (_name, cause) => {
    expect(await settledBy(failing(cause))).toMatchObject({ status: 0, neverSent: false });
  });

  it("the attempt's own timeout or an abort: may have been sent", async () => {
    const aborting: typeof fetch = async () => {
      throw new DOMException("The operation was aborted due to timeout", "TimeoutError");
    };
    expect(await settledBy(aborting)).toMatchObject({ status: 0, neverSent: false });
  });

  it("an answer: its status", async () => {
    const answering: typeof fetch = async () => new Response("[]", { status: 207 });
    expect(await settledBy(answering)).toMatchObject({ status: 207, records: 2 });
  });
});
