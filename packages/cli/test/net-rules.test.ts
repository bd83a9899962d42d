// The proxy rules (which requests go through which proxy, NO_PROXY as undici applies it) and
// the words for a network failure, on real errors where the machine can make them.
import { createServer, type Socket } from "node:net";
import { describeNetworkFailure } from "@vbapi-sdk/client";
import { EnvHttpProxyAgent, request } from "undici";
import { describe, expect, it } from "vitest";
import { unreachableMessage } from "../src/net/describe.ts";
import { checkProxyEnv, networkFetch, proxyFor, redactUrl } from "../src/net/proxy.ts";
import { Reachability, type Unreachable } from "../src/net/reach.ts";

const P = "http://proxy.corp:3128";

describe("checkProxyEnv", () => {
  it("refuses user info with a malformed %-escape (undici throws 'URI malformed' at every request), naming the variable only", () => {
    for (const value of [
      "http://user:s3cret%PW@127.0.0.1:9",
      "http://us%zzer:S3CRET@127.0.0.1:9",
    ]) {
      let message = "";
      try {
        checkProxyEnv({ HTTPS_PROXY: value });
      } catch (error) {
        message = (error as Error).message;
      }
      expect(message, value).toMatch(
        /^HTTPS_PROXY is not an http:\/\/ or https:\/\/ proxy URL: .*%/,
      );
      expect(message).not.toMatch(/s3cret|S3CRET|zz/);
    }
    // A well-formed escape is fine.
    expect(() => checkProxyEnv({ HTTPS_PROXY: "http://user:pa%40ss@127.0.0.1:9" })).not.toThrow();
  });

  it("refuses what undici's proxy agent cannot use (a path, a query, a fragment), naming the variable only", () => {
    for (const value of [
      "http://u:PW-S3CRET@127.0.0.1:3128/x",
      "http://127.0.0.1:3128/?PW-S3CRET",
      "http://127.0.0.1:3128/#PW-S3CRET",
      "not a url PW-S3CRET",
      "ftp://127.0.0.1:21",
    ]) {
      expect(() => checkProxyEnv({ HTTP_PROXY: value }), value).toThrow(
        /^HTTP_PROXY is not an http:\/\/ or https:\/\/ proxy URL/,
      );
      try {
        checkProxyEnv({ https_proxy: value });
      } catch (error) {
        expect((error as Error).message).not.toContain("S3CRET");
      }
    }
    for (const value of [
      "http://127.0.0.1:3128",
      "http://127.0.0.1:3128/",
      "https://u:p@proxy:443/",
    ]) {
      expect(() => checkProxyEnv({ HTTPS_PROXY: value }), value).not.toThrow();
    }
  });
});

describe("proxyFor", () => {
  it("no proxy variable: direct, one shared fetch whatever NO_PROXY says", () => {
    expect(proxyFor("https://vbapi.vbasoftware.com/x", {})).toBeUndefined();
    expect(networkFetch({ NO_PROXY: "*" })).toBe(networkFetch({}));
    expect(networkFetch({ HTTPS_PROXY: P })).not.toBe(networkFetch({}));
  });

  it("HTTPS_PROXY for https:, else HTTP_PROXY; HTTP_PROXY only for http:", () => {
    expect(proxyFor("https://a.com/", { HTTPS_PROXY: P })).toEqual({ url: P });
    expect(proxyFor("https://a.com/", { HTTP_PROXY: P })).toEqual({ url: P });
    expect(proxyFor("http://a.com/", { HTTPS_PROXY: P })).toBeUndefined();
    expect(proxyFor("http://a.com/", { HTTP_PROXY: P, HTTPS_PROXY: "http://other:1" })).toEqual({
      url: P,
    });
  });

  it("lower case first, as undici (an empty lower-case variable switches it off)", () => {
    expect(proxyFor("https://a.com/", { https_proxy: "http://low:1", HTTPS_PROXY: P })).toEqual({
      url: "http://low:1",
    });
    expect(proxyFor("http://a.com/", { http_proxy: "", HTTP_PROXY: P })).toBeUndefined();
    expect(proxyFor("http://a.com/", { HTTP_PROXY: P, no_proxy: "", NO_PROXY: "a.com" })).toEqual({
      url: P,
    });
  });

  it("never returns the proxy's credentials", () => {
    const env = { HTTPS_PROXY: "http://me:S3CRET@proxy.corp:3128" };
    expect(proxyFor("https://a.com/", env)).toEqual({ url: "http://proxy.corp:3128/" });
    expect(redactUrl("http://me:S3CRET@p:1")).toBe("http://p:1/");
    expect(redactUrl("me:S3CRET@p:1")).not.toContain("S3CRET");
    expect(redactUrl("http://p:1")).toBe("http://p:1");
  });

  const cases: [string, string, boolean][] = [
    // [NO_PROXY, target, goes through the proxy]
    ["example.invalid", "https://example.invalid/", false],
    ["example.invalid", "https://api.example.invalid/", false],
    ["example.invalid", "https://notexample.invalid/", true],
    [".example.invalid", "https://api.example.invalid/", false],
    [".example.invalid", "https://example.invalid/", false],
    ["*.example.invalid", "https://a.b.example.invalid/", false],
    ["EXAMPLE.invalid", "https://Api.Example.INVALID/", false],
    ["example.invalid:8443", "https://example.invalid:8443/", false],
    ["example.invalid:8443", "https://example.invalid/", true],
    ["example.invalid:443", "https://example.invalid/", false],
    ["example.invalid:80", "http://example.invalid/", false],
    ["other.invalid  example.invalid,x.invalid", "https://example.invalid/", false],
    [" , ,", "https://example.invalid/", true],
    ["*", "https://example.invalid/", false],
    ["*, x.invalid", "https://example.invalid/", true],
    ["127.0.0.1", "http://127.0.0.1:4010/", false],
    ["127.0.0.1:4011", "http://127.0.0.1:4010/", true],
    ["[::1]", "http://[::1]:4010/", false],
  ];
  it.each(cases)(
    "NO_PROXY=%j, %s: through the proxy %s (as undici decides)",
    async (noProxy, target, proxied) => {
      const env = { HTTP_PROXY: P, HTTPS_PROXY: P, NO_PROXY: noProxy };
      expect(proxyFor(target, env) !== undefined).toBe(proxied);
      // undici itself, with a loopback "proxy" that notes each connection and hangs up.
      let connections = 0;
      const sockets = new Set<Socket>();
      const server = createServer((socket) => {
        connections++;
        sockets.add(socket);
        socket.on("error", () => {});
        socket.end("HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\n\r\n");
      });
      await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
      const proxy = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
      const agent = new EnvHttpProxyAgent({ httpProxy: proxy, httpsProxy: proxy, noProxy });
      await request(target, { dispatcher: agent, signal: AbortSignal.timeout(5_000) }).catch(
        () => undefined,
      );
      await agent.destroy();
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((r) => server.close(() => r()));
      expect(connections > 0).toBe(proxied);
    },
  );
});

describe("describeNetworkFailure", () => {
  it("a host that cannot be resolved (a real lookup of .invalid)", async () => {
    const error = await fetch("http://no-such-host.invalid/").catch((e: unknown) => e);
    expect(describeNetworkFailure(error)).toEqual({
      kind: "resolve",
      code: "ENOTFOUND",
      words: "the host name cannot be resolved (ENOTFOUND)",
    });
  });

  it("a refused port (a real connect to a closed loopback port)", async () => {
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const { port } = server.address() as { port: number };
    await new Promise<void>((r) => server.close(() => r()));
    const error = await fetch(`http://127.0.0.1:${port}/`).catch((e: unknown) => e);
    expect(describeNetworkFailure(error).words).toBe("the connection was refused (ECONNREFUSED)");
    expect(unreachableMessage(`http://127.0.0.1:${port}/x`, error, {})).toBe(
      `cannot reach VBA at 127.0.0.1:${port}: the connection was refused (ECONNREFUSED); check VBAPI_BASE_URL / --base-url, and whether this network needs a proxy (HTTPS_PROXY)`,
    );
    // Through a proxy, the refusal is the proxy's, named without its credentials.
    expect(
      unreachableMessage("https://vba.example/x", error, {
        HTTPS_PROXY: "http://u:PW@p.corp:8080",
      }),
    ).toBe(
      "cannot reach VBA at vba.example through the proxy http://p.corp:8080/: the proxy refused the connection (ECONNREFUSED); check HTTPS_PROXY / HTTP_PROXY and NO_PROXY",
    );
  });

  it("undici's tunnel refusal, a certificate code, and something unknown", () => {
    const tunnel = new TypeError("fetch failed", {
      cause: Object.assign(new Error("Proxy response (407) !== 200 when HTTP Tunneling"), {
        code: "UND_ERR_ABORTED",
      }),
    });
    expect(describeNetworkFailure(tunnel)).toEqual({
      kind: "proxy",
      words: "the proxy refused the connection (HTTP 407 Proxy Authentication Required)",
    });
    const tls = new TypeError("fetch failed", {
      cause: Object.assign(new Error("x"), { code: "CERT_HAS_EXPIRED" }),
    });
    expect(describeNetworkFailure(tls).words).toBe(
      "the certificate has expired (CERT_HAS_EXPIRED)",
    );
    expect(describeNetworkFailure(new Error("boom"))).toEqual({
      kind: "other",
      words: "the connection failed",
    });
    expect(describeNetworkFailure(null).kind).toBe("other");
    expect(describeNetworkFailure("text").kind).toBe("other");
  });
});

describe("Reachability: which aborted requests mean VBA cannot be reached", () => {
  /** A fetch that never answers: it rejects with the signal's reason when aborted, as fetch does. */
  const silent: typeof fetch = (_input, init) =>
    new Promise((_resolve, reject) => {
      const signal = init?.signal;
      signal?.addEventListener("abort", () => reject(signal.reason), { once: true });
    });

  async function attempt(env: NodeJS.ProcessEnv, reason: unknown) {
    const reach = new Reachability(env);
    const seen: Unreachable[] = [];
    reach.beforeFirstAnswer((failure) => seen.push(failure));
    const controller = new AbortController();
    const sent = reach.watch(silent)("https://vba.example.com/x", { signal: controller.signal });
    controller.abort(reason);
    await expect(sent).rejects.toBe(controller.signal.reason);
    return { seen, failure: reach.failure };
  }
  const timeout = () => new DOMException("The attempt timed out", "TimeoutError");
  const proxy = { HTTPS_PROXY: "http://me:S3CRET@127.0.0.1:9/" };

  it("the SDK's attempt timeout through a proxy, before any answer: unreachable", async () => {
    const { seen, failure } = await attempt(proxy, timeout());
    expect(seen).toHaveLength(1);
    expect(failure?.url).toBe("https://vba.example.com/x");
    expect(unreachableMessage(failure?.url ?? "", failure?.error, proxy)).toBe(
      "cannot reach VBA at vba.example.com through the proxy http://127.0.0.1:9/: the proxy: no answer in time; check HTTPS_PROXY / HTTP_PROXY and NO_PROXY",
    );
  });

  it("Ctrl-C or the session's own stop, or a timeout going direct (a slow VBA): not counted", async () => {
    const aborted = () => new DOMException("This operation was aborted", "AbortError");
    expect((await attempt(proxy, aborted())).seen).toHaveLength(0);
    expect((await attempt(proxy, undefined)).seen).toHaveLength(0);
    expect((await attempt({}, timeout())).seen).toHaveLength(0);
    expect(
      (await attempt({ HTTPS_PROXY: "http://p:1", NO_PROXY: "vba.example.com" }, timeout())).seen,
    ).toHaveLength(0);
  });
});
