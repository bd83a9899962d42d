// How many requests a bulk run keeps in flight. With a rate limit, Little's law gives the
// number needed to keep the limit busy: rate × round-trip time (plus a margin); more would only
// hold records in memory while they wait for the limiter, fewer would leave the rate unused.
// Before the first answer, the limit's burst may go at once.
// Timeouts and 429s halve the allowance for a while; a fixed `concurrency` option overrides it.

import { DEFAULT_CONCURRENCY } from "./options.ts";

/** Upper bound of the adaptive concurrency. */
export const MAX_AUTO_CONCURRENCY = 48;
/** Where the adaptive concurrency starts without a known burst, before any round trip was measured. */
const INITIAL = DEFAULT_CONCURRENCY;
/** Requests in flight when no rate is known. */
export const UNKNOWN_RATE_CONCURRENCY = 8;
const UNLIMITED = UNKNOWN_RATE_CONCURRENCY;
/** How long a halving after a timeout or 429 holds. */
const COOL_DOWN_MS = 5_000;

export class Concurrency {
  private rttMs: number | undefined;
  private ceiling = MAX_AUTO_CONCURRENCY;
  private coolUntil = 0;

  constructor(
    /** A fixed number, or undefined for adaptive. */
    private readonly fixed: number | undefined,
    /** The rate limit in requests per second, when known (Infinity: none). */
    private readonly rate: () => number | undefined,
    /** How many requests the limit lets go at once: the first round may use them all. */
    private readonly burst: () => number | undefined,
  ) {}

  /** Requests allowed in flight now. */
  get limit(): number {
    if (this.fixed !== undefined) return this.fixed;
    const rate = this.rate();
    let target: number;
    if (this.rttMs === undefined) {
      const burst = this.burst();
      target = burst !== undefined && Number.isFinite(burst) ? burst : INITIAL;
    }
    // No known rate (no limit, or a limiter that does not say): enough to overlap round trips
    // without flooding the server.
    else if (rate === undefined || !Number.isFinite(rate)) target = UNLIMITED;
    else target = Math.ceil((rate * this.rttMs * 1.25) / 1000) + 1;
    const ceiling = performance.now() < this.coolUntil ? this.ceiling : MAX_AUTO_CONCURRENCY;
    return Math.max(1, Math.min(target, ceiling, MAX_AUTO_CONCURRENCY));
  }

  /** A request completed after `ms` (launch to answer). */
  observe(ms: number): void {
    this.rttMs = this.rttMs === undefined ? ms : this.rttMs * 0.8 + ms * 0.2;
  }

  /** A timeout or a 429: halve what is allowed for a while. */
  backOff(inFlight: number): void {
    this.ceiling = Math.max(1, Math.floor(Math.max(inFlight, 2) / 2));
    this.coolUntil = performance.now() + COOL_DOWN_MS;
  }
}
