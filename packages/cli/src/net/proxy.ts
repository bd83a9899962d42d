// The CLI's way onto the network: Node's global `fetch` ignores HTTPS_PROXY / HTTP_PROXY /
// NO_PROXY, which every other tool on the machine honours. With a proxy variable set, requests
// go through undici's own EnvHttpProxyAgent (no hand-written tunnel); without, plain `fetch`.
import { EnvHttpProxyAgent, fetch as undiciFetch } from "undici";
import { UsageError } from "../commands/args.ts";

type Env = NodeJS.ProcessEnv;

/** The proxy settings exactly as undici's EnvHttpProxyAgent reads them (lower case first). */
export interface ProxySettings {
  httpProxy: string;
  httpsProxy: string;
  noProxy: string;
}

export function proxySettings(env: Env = process.env): ProxySettings {
  return {
    httpProxy: env.http_proxy ?? env.HTTP_PROXY ?? "",
    httpsProxy: env.https_proxy ?? env.HTTPS_PROXY ?? "",
    noProxy: env.no_proxy ?? env.NO_PROXY ?? "",
  };
}

/** `url` without its user name and password (and anything before an `@` when it is no URL). */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.username || parsed.password) {
      parsed.username = "";
      parsed.password = "";
      return parsed.href;
    }
  } catch {}
  // Not a URL, or one whose `user:password@` is no authority (`me:pw@host`): cut it off.
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)?[^/]*@/i, "$1");
}

const DEFAULT_PORTS: Record<string, number> = { "http:": 80, "https:": 443 };

/** NO_PROXY as undici applies it: a host or a domain suffix (`.x`, `*.x`), a port, or `*`. */
function bypassed(target: URL, noProxy: string): boolean {
  const entries = noProxy
    .split(/[,\s]/)
    .filter(Boolean)
    .map((entry) => {
      const parsed = /^(.+):(\d+)$/.exec(entry);
      return {
        hostname: (parsed?.[1] ?? entry).replace(/^\*?\./, "").toLowerCase(),
        port: parsed ? Number.parseInt(parsed[2] ?? "0", 10) : 0,
      };
    });
  if (entries.length === 0) return false;
  if (noProxy === "*") return true;
  // `host` keeps IPv6 brackets, as undici compares them.
  const hostname = target.host.replace(/:\d*$/, "").toLowerCase();
  const port = Number.parseInt(target.port, 10) || DEFAULT_PORTS[target.protocol] || 0;
  return entries.some(
    (entry) =>
      (!entry.port || entry.port === port) &&
      (hostname === entry.hostname || hostname.endsWith(`.${entry.hostname}`)),
  );
}

/**
 * The proxy a request to `targetUrl` goes through (its URL without credentials), or undefined
 * when it goes direct: HTTPS_PROXY for https: targets (else HTTP_PROXY), HTTP_PROXY for http:
 * targets, none when NO_PROXY names the host. Either case; the lower case wins, as in undici.
 */
export function proxyFor(targetUrl: string, env: Env = process.env): { url: string } | undefined {
  let target: URL;
  try {
    target = new URL(targetUrl);
  } catch {
    return undefined;
  }
  const settings = proxySettings(env);
  const proxy =
    target.protocol === "https:" ? settings.httpsProxy || settings.httpProxy : settings.httpProxy;
  if (!proxy || bypassed(target, settings.noProxy)) return undefined;
  return { url: redactUrl(proxy) };
}

/** Throws a UsageError naming the variable when a proxy is set but is no http(s) URL. */
function checkProxy(env: Env, names: [string, string]): void {
  const [lower, upper] = names;
  const name = env[lower] !== undefined ? lower : upper;
  const value = env[name];
  if (!value) return;
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {}
  if (!url || (url.protocol !== "http:" && url.protocol !== "https:") || !url.hostname) {
    // The value is not repeated: it may hold a password.
    throw new UsageError(`${name} is not an http:// or https:// proxy URL`);
  }
}

/** Throws a UsageError naming a proxy variable of `env` that is set but no http(s) URL. */
export function checkProxyEnv(env: Env = process.env): void {
  checkProxy(env, ["http_proxy", "HTTP_PROXY"]);
  checkProxy(env, ["https_proxy", "HTTPS_PROXY"]);
}

const cache = new Map<string, typeof fetch>();

/**
 * A `fetch` that honours HTTPS_PROXY / HTTP_PROXY / NO_PROXY (either case) from `env`, or the
 * global `fetch` itself when no proxy variable is set. One dispatcher per setting, shared.
 */
export function networkFetch(env: Env = process.env): typeof fetch {
  const settings = proxySettings(env);
  if (!settings.httpProxy && !settings.httpsProxy) return fetch;
  checkProxyEnv(env);
  const key = JSON.stringify(settings);
  const known = cache.get(key);
  if (known) return known;
  // Passed explicitly so that `env`, not process.env, decides.
  const dispatcher = new EnvHttpProxyAgent(settings);
  const proxied = ((input: Parameters<typeof fetch>[0], init?: RequestInit) =>
    undiciFetch(
      input as Parameters<typeof undiciFetch>[0],
      { ...(init as object), dispatcher } as Parameters<typeof undiciFetch>[1],
    )) as unknown as typeof fetch;
  cache.set(key, proxied);
  return proxied;
}
