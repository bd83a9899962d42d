// One plain request to the base URL (no credentials): does VBA answer over HTTP at all (and
// does the proxy let it through), and how far its clock (the `Date` header) is from this one.
import { request } from "./http.ts";
import type { Check, DoctorContext } from "./types.ts";

/** A skew past this is reported: token lifetimes are counted on the issuer's clock. */
export const MAX_SKEW_MS = 60_000;

function duration(ms: number): string {
  const s = Math.round(Math.abs(ms) / 1000);
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  return `${(s / 3600).toFixed(1)} h`;
}

/** Codes of a certificate no trusted CA signed: behind a proxy, most likely TLS interception. */
const UNTRUSTED = /SELF_SIGNED|UNABLE_TO_GET_ISSUER|UNABLE_TO_VERIFY|CERT_UNTRUSTED/;

const INTERCEPTED_FIX =
  "ask your network team for the intercepting CA certificate and set NODE_EXTRA_CA_CERTS=/path/to/ca.pem";

/** What to do when GET / got no answer (and the certificate was not an interceptor's). */
function httpFix(ctx: DoctorContext, answer: { error: string; kind: string }): string {
  if (answer.kind === "tls")
    return "check the host name and port in --base-url; if a company proxy inspects TLS, set NODE_EXTRA_CA_CERTS to its CA certificate (PEM)";
  if (answer.kind === "proxy")
    return answer.error.includes("407")
      ? "give the proxy's credentials in the proxy variable (http://user:password@host:port)"
      : "ask your network team whether the proxy lets this machine reach VBA's host, or put the host in NO_PROXY";
  return ctx.proxy
    ? "check HTTPS_PROXY / HTTP_PROXY and NO_PROXY; the proxy or VBA may be down"
    : "check --base-url / VBAPI_BASE_URL; the server may be down";
}

/** The `http` check and the `clock` check it makes possible. */
export async function httpAndClockChecks(ctx: DoctorContext): Promise<Check[]> {
  const sentAt = Date.now();
  const answer = await request(ctx, "GET", "/", {});
  const arrivedAt = Date.now();
  if ("error" in answer) {
    // Through a proxy the tls check is not run: an untrusted certificate shows up here.
    const intercepted = answer.kind === "tls" && UNTRUSTED.test(answer.code ?? "");
    const by = ctx.proxy ? "the proxy or a firewall" : "a proxy or firewall";
    return [
      {
        id: "http",
        verdict: "fail",
        saw: `GET ${ctx.baseUrl}/ got no answer${ctx.proxy ? ` through proxy ${ctx.proxy.url}` : ""}: ${answer.error}${intercepted ? `: this looks like TLS interception by ${by} on your network` : ""}`,
        fix: intercepted ? INTERCEPTED_FIX : httpFix(ctx, answer),
        ms: answer.ms,
      },
    ];
  }
  const via = ctx.proxy ? ` through proxy ${ctx.proxy.url}` : "";
  const checks: Check[] = [
    { id: "http", verdict: "pass", saw: `GET / answered ${answer.status}${via}`, ms: answer.ms },
  ];
  const serverTime = answer.date ? Date.parse(answer.date) : Number.NaN;
  if (!Number.isFinite(serverTime)) {
    checks.push({
      id: "clock",
      verdict: "warn",
      saw: "the answer has no readable Date header: the clocks cannot be compared",
      fix: "nothing needed for a load; token lifetimes are then counted on this machine's clock",
    });
    return checks;
  }
  // The header has whole seconds and was written between sending and arrival.
  const skew = serverTime + 500 - (sentAt + arrivedAt) / 2;
  const which = skew > 0 ? "ahead of" : "behind";
  if (Math.abs(skew) > MAX_SKEW_MS) {
    checks.push({
      id: "clock",
      verdict: "warn",
      saw: `the server's clock is ${duration(skew)} ${which} this machine's (Date: ${answer.date})`,
      fix: "set this machine's clock (NTP); the CLI measures token lifetimes itself, but logs and expiry times will disagree with VBA's",
    });
  } else {
    checks.push({
      id: "clock",
      verdict: "pass",
      saw: `the server's clock is within ${duration(Math.max(Math.abs(skew), 1000))} of this machine's`,
    });
  }
  return checks;
}
