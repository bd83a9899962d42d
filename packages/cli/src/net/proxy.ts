// The CLI's way onto the network: Node's global `fetch` ignores HTTPS_PROXY / HTTP_PROXY /
// NO_PROXY, which every other tool on the machine honours. With a proxy variable set, requests
// go through undici's own EnvHttpProxyAgent (no hand-written tunnel); without, through an
// undici Agent whose connector says when a TLS handshake was reset (nothing was sent).
//
// undici is loaded at the first request: a command that sends nothing (--help, validate,
// template...) does not load it. Direct, only the modules a request uses (the agent, the
// connector, fetch: 40 ms of CPU); through a proxy, all of undici (80 ms: its index.js also
// gives every dispatcher the `connect` method the proxy agent tunnels with).
import { createRequire } from "node:module";
import type * as Undici from "undici";
import type { buildConnector, Dispatcher, Pool } from "undici";
import { UsageError } from "../commands/args.ts";
import { io } from "../io.ts";

const load = createRequire(import.meta.url);
/** One of undici's own modules (undici is pinned: these paths are the ones its index.js uses). */
const undiciModule = <T>(path: string): T => load(`undici/lib/${path}`) as T;
const wholeUndici = (): typeof Undici => load("undici") as typeof Undici;

type Env = NodeJS.ProcessEnv;

/** The proxy settings exactly as undici's EnvHttpProxyAgent reads them (lower case first). */
export interface ProxySettings {
  httpProxy: string;
  httpsProxy: string;
  noProxy: string;
}

export function proxySettings(env: Env = io().env): ProxySettings {
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
export function proxyFor(targetUrl: string, env: Env = io().env): { url: string } | undefined {
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
  // undici's proxy agent refuses such a URL at the first request ("invalid url"), which left
  // every row not done with no reason given.
  if ((url.pathname !== "/" && url.pathname !== "") || url.search || url.hash) {
    throw new UsageError(
      `${name} is not an http:// or https:// proxy URL: a proxy URL has no path, query or fragment`,
    );
  }
  // undici decodes the user name and password for the Proxy-Authorization header: a % not
  // followed by two hex digits throws "URI malformed" at every request, before anything is sent.
  try {
    decodeURIComponent(url.username);
    decodeURIComponent(url.password);
  } catch {
    throw new UsageError(
      `${name} is not an http:// or https:// proxy URL: its user name or password has a % not followed by two hex digits (write a literal % as %25)`,
    );
  }
}

/** Throws a UsageError naming a proxy variable of `env` that is set but no http(s) URL. */
export function checkProxyEnv(env: Env = io().env): void {
  checkProxy(env, ["http_proxy", "HTTP_PROXY"]);
  checkProxy(env, ["https_proxy", "HTTPS_PROXY"]);
}

/** How long a proxy may take to answer CONNECT (undici's default is 300 s; squid waits 60 s). */
export const CONNECT_TIMEOUT_MS = 10_000;

/**
 * The pool undici sends CONNECT through, bounded by CONNECT_TIMEOUT_MS. Its failures are
 * rewrapped as "Proxy tunnel failed" (the SDK's words know it: not sent, kind proxy): undici
 * reports a proxy closing the socket on CONNECT as UND_ERR_SOCKET, which its client takes for a
 * recoverable socket error and retries CONNECT forever, until the request's timeout.
 */
function tunnelPool(origin: string | URL, options: Pool.Options): Dispatcher {
  const pool = new (wholeUndici().Pool)(origin, { ...options, headersTimeout: CONNECT_TIMEOUT_MS });
  const connect = pool.connect.bind(pool) as (
    options: Dispatcher.ConnectOptions,
  ) => Promise<Dispatcher.ConnectData>;
  return Object.assign(pool, {
    connect: (options: Dispatcher.ConnectOptions) =>
      connect(options).catch((error: unknown) => {
        const code = (error as { code?: unknown } | null)?.code;
        // A proxy that cannot be reached at all keeps its own code (refused, not resolved...).
        if (code === "UND_ERR_HEADERS_TIMEOUT") {
          throw new Error("Proxy tunnel failed: no answer to CONNECT", { cause: error });
        }
        if (code === "UND_ERR_SOCKET" || code === "ECONNRESET") {
          throw new Error("Proxy tunnel failed: the proxy closed the connection", { cause: error });
        }
        throw error;
      }),
  });
}

/** Node's own words for a TLS handshake cut off, which the SDK reads as "never sent". */
const HANDSHAKE_CUT_OFF =
  "Client network socket disconnected before secure TLS connection was established";

/**
 * undici's connector, saying a reset during the TLS handshake as Node says a cut-off one (a
 * firewall blocking the host resets at the ClientHello: "read ECONNRESET"). The connector
 * calls back before any request byte is written, so the request was never sent.
 */
function handshakeAware(connect: buildConnector.connector): buildConnector.connector {
  return (options, callback) =>
    connect(options, (...args) => {
      const [error] = args;
      const code = (error as { code?: unknown } | null)?.code;
      if (error && options.protocol === "https:" && code === "ECONNRESET") {
        const cutOff = Object.assign(new Error(HANDSHAKE_CUT_OFF, { cause: error }), { code });
        callback(cutOff, null);
      } else callback(...args);
    });
}

const cache = new Map<string, typeof fetch>();

/**
 * A `fetch` that honours HTTPS_PROXY / HTTP_PROXY / NO_PROXY (either case) from `env`, direct
 * when no proxy variable is set. One dispatcher per setting, shared.
 */
export function networkFetch(env: Env = io().env): typeof fetch {
  const settings = proxySettings(env);
  const direct = !settings.httpProxy && !settings.httpsProxy;
  if (!direct) checkProxyEnv(env);
  const key = direct ? "direct" : JSON.stringify(settings);
  const known = cache.get(key);
  if (known) return known;
  type Send = (input: Parameters<typeof Undici.fetch>[0], init: object) => Promise<unknown>;
  let send: Send | undefined;
  // Passed explicitly so that `env`, not io().env, decides.
  // The direct connector (also EnvHttpProxyAgent's, for hosts NO_PROXY names; its proxied
  // agents connect through the tunnel instead) says a reset TLS handshake as never sent.
  const sender = (): Send => {
    if (direct) {
      const build = undiciModule<typeof buildConnector>("core/connect.js");
      const Agent = undiciModule<typeof Undici.Agent>("dispatcher/agent.js");
      const dispatcher = new Agent({ connect: handshakeAware(build({})) });
      const { fetch } = undiciModule<{ fetch: typeof Undici.fetch }>("web/fetch/index.js");
      return (input, init) => fetch(input, { ...init, dispatcher });
    }
    const undici = wholeUndici();
    const connect = handshakeAware(undici.buildConnector({}));
    const dispatcher: Dispatcher = new undici.EnvHttpProxyAgent({
      ...settings,
      clientFactory: tunnelPool,
      connect,
    });
    return (input, init) => undici.fetch(input, { ...init, dispatcher });
  };
  const proxied = ((input: Parameters<typeof fetch>[0], init?: RequestInit) => {
    send ??= sender();
    return send(input as Parameters<Send>[0], init as object);
  }) as unknown as typeof fetch;
  cache.set(key, proxied);
  return proxied;
}
