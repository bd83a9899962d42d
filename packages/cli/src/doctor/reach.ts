// Reaching VBA: DNS, the TCP connection and the TLS handshake, each timed. Through a proxy,
// the proxy is what this machine must reach (VBA's host is resolved by the proxy), so its DNS
// and connection are checked instead, and the next request shows whether it lets VBA through.
import { lookup } from "node:dns/promises";
import { type Socket, connect as tcpConnect } from "node:net";
import { type TLSSocket, connect as tlsConnect } from "node:tls";
import { errorWords } from "./http.ts";
import type { Check, DoctorContext } from "./types.ts";

const DEFAULT_PORT: Record<string, number> = { "http:": 80, "https:": 443 };

const TIMED_OUT = "dns timeout";

const since = (started: number) => Math.round(performance.now() - started);

function hostAndPort(url: string): { host: string; port: number; tls: boolean } {
  const u = new URL(url);
  return {
    host: u.hostname.replace(/^\[|\]$/g, ""),
    port: Number(u.port) || DEFAULT_PORT[u.protocol] || 80,
    tls: u.protocol === "https:",
  };
}

/** Resolves when `socket` connects (or the TLS handshake ends); rejects on error or timeout. */
function settle<S extends Socket>(socket: S, event: string, timeoutMs: number): Promise<S> {
  return new Promise<S>((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.destroy();
      reject(Object.assign(new Error(`no answer in ${timeoutMs} ms`), { code: "ETIMEDOUT" }));
    }, timeoutMs);
    socket.once(event, () => {
      clearTimeout(timer);
      resolve(socket);
    });
    socket.once("error", (error) => {
      clearTimeout(timer);
      socket.destroy();
      reject(error);
    });
  });
}

async function dnsCheck(id: string, host: string, timeoutMs: number): Promise<Check> {
  const started = performance.now();
  try {
    const found = await Promise.race([
      lookup(host, { all: true }),
      new Promise<never>((_, reject) =>
        setTimeout(() => reject(new Error(TIMED_OUT)), timeoutMs).unref(),
      ),
    ]);
    const addresses = found
      .map((a) => a.address)
      .slice(0, 4)
      .join(", ");
    return { id, verdict: "pass", saw: `${host} is ${addresses}`, ms: since(started) };
  } catch (error) {
    return {
      id,
      verdict: "fail",
      saw: `${host}: ${(error as Error).message === TIMED_OUT ? `no answer from DNS in ${timeoutMs} ms` : errorWords(error).words}`,
      fix: "check the host name in --base-url / VBAPI_BASE_URL (or the proxy URL) and this machine's DNS; behind a corporate network, set HTTPS_PROXY",
      ms: since(started),
    };
  }
}

async function connectCheck(id: string, host: string, port: number, timeoutMs: number) {
  const started = performance.now();
  try {
    const socket = await settle(tcpConnect({ host, port }), "connect", timeoutMs);
    socket.destroy();
    return {
      id,
      verdict: "pass",
      saw: `connected to ${host}:${port}`,
      ms: since(started),
    } as Check;
  } catch (error) {
    return {
      id,
      verdict: "fail",
      saw: `cannot connect to ${host}:${port}: ${errorWords(error).words}`,
      fix: "check that the server is up and the port is right; a firewall may drop the connection (then set HTTPS_PROXY to your proxy)",
      ms: since(started),
    } as Check;
  }
}

/** Whose certificate this is, in words (`CN=..., O=...`). */
function issuerOf(socket: TLSSocket): string {
  const issuer = socket.getPeerCertificate()?.issuer as Record<string, string> | undefined;
  if (!issuer) return "unknown";
  return (
    ["CN", "O"].flatMap((k) => (issuer[k] ? [`${k}=${issuer[k]}`] : [])).join(", ") || "unknown"
  );
}

async function tlsCheck(host: string, port: number, timeoutMs: number): Promise<Check> {
  const started = performance.now();
  try {
    const socket = tlsConnect({ host, port, servername: host, rejectUnauthorized: false });
    await settle(socket, "secureConnect", timeoutMs);
    const issuer = issuerOf(socket);
    const authorized = socket.authorized;
    const reason = socket.authorizationError ? String(socket.authorizationError) : "";
    socket.destroy();
    if (authorized) {
      return {
        id: "tls",
        verdict: "pass",
        saw: `certificate issued by ${issuer}, trusted`,
        ms: since(started),
      };
    }
    const intercepted = /SELF_SIGNED|UNABLE_TO_GET_ISSUER|UNABLE_TO_VERIFY/.test(reason);
    return {
      id: "tls",
      verdict: "fail",
      saw: `certificate issued by ${issuer} is not trusted (${reason})${intercepted ? ": this looks like TLS interception by a proxy or firewall on your network" : ""}`,
      fix: intercepted
        ? "ask your network team for the intercepting CA certificate and set NODE_EXTRA_CA_CERTS=/path/to/ca.pem"
        : "check the host name in --base-url; the certificate does not match or is invalid",
      ms: since(started),
    };
  } catch (error) {
    return {
      id: "tls",
      verdict: "fail",
      saw: `TLS handshake with ${host}:${port} failed: ${errorWords(error).words}`,
      fix: "check that the URL's port speaks HTTPS; a proxy or firewall may be in the way",
      ms: since(started),
    };
  }
}

/** The reach checks, in order; the first failure ends them. */
export async function reachChecks(ctx: DoctorContext): Promise<Check[]> {
  const target = hostAndPort(ctx.baseUrl);
  if (ctx.proxy) {
    let proxy: ReturnType<typeof hostAndPort>;
    try {
      proxy = hostAndPort(ctx.proxy.url);
    } catch {
      return [
        {
          id: "proxy",
          verdict: "fail",
          saw: "the proxy variable is not a URL",
          fix: "set HTTPS_PROXY / HTTP_PROXY to http://host:port",
        },
      ];
    }
    const checks: Check[] = [await dnsCheck("proxy dns", proxy.host, ctx.timeoutMs)];
    if (checks[0]?.verdict === "pass")
      checks.push(await connectCheck("proxy connect", proxy.host, proxy.port, ctx.timeoutMs));
    const last = checks.at(-1) as Check;
    last.saw = `through proxy ${ctx.proxy.url}: ${last.saw}`;
    if (last.verdict === "fail")
      last.fix =
        "check HTTPS_PROXY / HTTP_PROXY (host and port) or whether NO_PROXY should name VBA's host";
    return checks;
  }
  const checks: Check[] = [await dnsCheck("dns", target.host, ctx.timeoutMs)];
  if (checks[0]?.verdict !== "pass") return checks;
  checks.push(await connectCheck("connect", target.host, target.port, ctx.timeoutMs));
  if (checks[1]?.verdict !== "pass") return checks;
  if (target.tls) checks.push(await tlsCheck(target.host, target.port, ctx.timeoutMs));
  else checks.push({ id: "tls", verdict: "skip", saw: "plain http: no TLS (VBA itself is https)" });
  return checks;
}
