// How long a login's ID token lives, measured rather than trusted to clocks, and when to renew
// it. The server's clock and the client's may be hours apart, and lifetimes run from seconds to
// a day, so the expiry is counted on this machine's clock from when the login request was sent
// (the token cannot have been issued before that, so a slow login never makes a token look
// longer-lived than it is):
//
// - `exp - iat` when the token carries both (the issuer's own clock on both sides);
// - else `exp` against the server's `Date` header when that header disagrees with this
//   machine's clock (they share the issuer's clock), else against the clock of the two that
//   leaves it less time (a second at least: an `exp` within the clocks' agreement of now is a
//   token about to expire);
// - else (no readable `exp`, or one already past by every clock at hand) a default lifetime,
//   and the server stays the judge: a 401 renews the token once. Claims that cannot be a token
//   lifetime (a non-positive one, or one over a week: `exp` in milliseconds, a bogus `iat`) count
//   as unreadable.
//
// The token is renewed in the background at most half its lifetime before it expires (the
// `renewBeforeMs` default of 5 minutes holds for long-lived tokens), so a process logs in at
// most about twice per lifetime however short it is.
import type { StoredToken } from "./token-cache.ts";

/** VBA's documented ID token lifetime: used when nothing in the answer says otherwise. */
export const DEFAULT_TOKEN_LIFETIME_MS: number = 24 * 60 * 60 * 1000;
/** Clocks within this of each other agree (a `Date` header has whole seconds). */
const CLOCK_AGREEMENT_MS = 2_000;
/** The longest lifetime believed; longer ones come from claims in the wrong unit. */
const MAX_LIFETIME_MS = 7 * 24 * 60 * 60 * 1000;

/**
 * A JWT's NumericDate claims in epoch milliseconds; absent or unreadable ones are undefined.
 * Public as `tokenTimes`.
 */
export function jwtTimes(token: string): { exp?: number; iat?: number } {
  const payload = token.split(".")[1];
  if (payload === undefined || payload.length > 64 * 1024) return {};
  let claims: Record<string, unknown>;
  try {
    claims = JSON.parse(atob(payload.replace(/-/g, "+").replace(/_/g, "/"))) ?? {};
  } catch {
    return {};
  }
  // NumericDate is in seconds; a value past 1e11 (the year 5138 in seconds) is in milliseconds.
  const time = (v: unknown) =>
    typeof v === "number" && Number.isFinite(v) && v > 0 ? (v > 1e11 ? v : v * 1000) : undefined;
  const exp = time(claims.exp);
  const iat = time(claims.iat);
  return { ...(exp !== undefined && { exp }), ...(iat !== undefined && { iat }) };
}

/** How a token's expiry was found (for tests and logs). */
export type LifetimeSource = "iat" | "server-date" | "local-clock" | "default";

const plausible = (ms: number) => ms > 0 && ms <= MAX_LIFETIME_MS;

/**
 * The token's expiry on this machine's clock: `sentAt` is when the login request was sent and
 * `arrivedAt` when its answer arrived (Date.now() both), `serverDate` the answer's `Date` header.
 */
export function measureToken(
  token: string,
  sentAt: number,
  arrivedAt: number,
  serverDate: string | null | undefined,
): StoredToken & { lifetimeMs: number; source: LifetimeSource } {
  const { exp, iat } = jwtTimes(token);
  const lasting = (lifetimeMs: number, source: LifetimeSource) => ({
    token,
    expiresAt: sentAt + lifetimeMs,
    lifetimeMs,
    source,
  });
  if (exp !== undefined && iat !== undefined && plausible(exp - iat)) {
    return lasting(exp - iat, "iat");
  }
  if (exp !== undefined) {
    // The Date header was written between sending and arrival, in whole seconds: the server's
    // clock may have been up to a second past it, so a second is taken off. A remaining time
    // below that resolution cannot be told from noise: a second, at least (VBA stays the judge;
    // a 401 renews once).
    const server = serverDate ? Date.parse(serverDate) + 1_000 : Number.NaN;
    if (Number.isFinite(server) && Math.abs(server - arrivedAt) > CLOCK_AGREEMENT_MS) {
      if (plausible(exp - server)) return lasting(Math.max(exp - server, 1_000), "server-date");
    } else {
      // The clocks agree to within CLOCK_AGREEMENT_MS, which is a short token's whole life: the
      // shorter reading is believed (the server's clock may be ahead), and an `exp` inside that
      // band (past by this machine's clock, maybe not by VBA's) is a token about to expire: a
      // second, not the default day.
      const local = exp - arrivedAt;
      const byServer = Number.isFinite(server) ? exp - server : Number.POSITIVE_INFINITY;
      const shortest = Math.min(local, byServer);
      if (local <= MAX_LIFETIME_MS && shortest > -CLOCK_AGREEMENT_MS) {
        return byServer < local
          ? lasting(Math.max(byServer, 1_000), "server-date")
          : lasting(Math.max(local, 1_000), "local-clock");
      }
    }
  }
  return lasting(DEFAULT_TOKEN_LIFETIME_MS, "default");
}

/** A token's lifetime: as measured at login, else what was left of it when this process read it. */
export function withLifetime(
  token: StoredToken,
  now: number,
): StoredToken & { lifetimeMs: number } {
  const lifetimeMs = token.lifetimeMs;
  if (typeof lifetimeMs === "number" && Number.isFinite(lifetimeMs) && lifetimeMs > 0) {
    return token as StoredToken & { lifetimeMs: number };
  }
  return { ...token, lifetimeMs: Math.max(0, token.expiresAt - now) };
}

/** When to renew in the background: `renewBeforeMs` ahead of the expiry, at most half the lifetime. */
export function renewalTime(
  token: StoredToken & { lifetimeMs: number },
  renewBeforeMs: number,
): number {
  return token.expiresAt - Math.min(renewBeforeMs, token.lifetimeMs / 2);
}

/**
 * The last moment the token is handed out while a renewal is under way: a second before it
 * expires (a quarter of a short lifetime), so that a request still on its way on a slow or busy
 * machine reaches VBA before the token does expire.
 */
export function usableUntil(token: StoredToken & { lifetimeMs: number }): number {
  return token.expiresAt - Math.min(1_000, token.lifetimeMs / 4);
}
