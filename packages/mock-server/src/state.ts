// What a running server holds and counts: the store, the faults, the rate limiter and the
// counters. Shared by the API handlers, the admin endpoint and the MockServer object.
import { createHash, randomBytes } from "node:crypto";
import { FaultRegistry } from "./faults.ts";
import { Latency, type LatencyOptions } from "./latency.ts";
import { RateLimiter, type RateLimitOptions } from "./rate-limit.ts";
import type { RouteSummary } from "./routes.ts";
import { RecordStore } from "./store.ts";

/** Counters of one API key. */
export interface ApiKeyStats {
  /** Batch requests that presented this key (valid), from the credential check on. */
  requests: number;
  /** 429 answers this key's rate-limit bucket sent. */
  rateLimited: number;
}

/**
 * The label of an API key in `stats.byApiKey`: the first 12 hex digits of its SHA-256, so that
 * counters can be read (and logged) without the key itself.
 */
export function apiKeyId(apiKey: string): string {
  return createHash("sha256").update(apiKey).digest("hex").slice(0, 12);
}

/** Counters since start or the last `reset()`. Admin requests are not counted except in `admin`. */
export interface MockStats {
  /** Requests to the API (everything not under `/__admin`). */
  requests: number;
  /** Answers by HTTP status (as strings: `"207"`, `"429"`...). */
  byStatus: Record<string, number>;
  /** 429 answers sent by the rate limiter (not by faults), all keys together. */
  rateLimited: number;
  /** Per accepted API key, labelled by {@link apiKeyId}; every configured key is listed. */
  byApiKey: Record<string, ApiKeyStats>;
  /** Record outcomes inside 207 answers. */
  records: {
    created: number;
    updated: number;
    /** Per-record failures (path mismatch or injected). */
    failed: number;
    /** Records left out of `data` by faults. */
    omitted: number;
  };
  /** Fault firings. */
  faultsInjected: number;
  /** Connections reset by faults. */
  connectionsReset: number;
  /** Requests to the admin endpoint. */
  admin: number;
}

function newStats(apiKeyIds: readonly string[]): MockStats {
  const byApiKey: Record<string, ApiKeyStats> = {};
  for (const id of apiKeyIds) byApiKey[id] = { requests: 0, rateLimited: 0 };
  return {
    requests: 0,
    byStatus: {},
    rateLimited: 0,
    byApiKey,
    records: { created: 0, updated: 0, failed: 0, omitted: 0 },
    faultsInjected: 0,
    connectionsReset: 0,
    admin: 0,
  };
}

const ACTIVITY_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUV";

function activityPrefix(): string {
  let out = "";
  for (const b of randomBytes(13)) out += ACTIVITY_ALPHABET[b & 31];
  return out;
}

/** The server's mutable state. */
export class ServerState {
  readonly store: RecordStore;
  readonly faults: FaultRegistry;
  /** One token bucket per API key. */
  readonly rateLimiter: RateLimiter;
  readonly latency: Latency;
  /** Live counters (mutated in place; read them through `snapshotStats()`). */
  stats: MockStats;
  private readonly apiKeyIds: readonly string[];
  private readonly activityPrefix = activityPrefix();
  private activity = 0;

  constructor(
    readonly routes: readonly RouteSummary[],
    keyFieldsByEntity: ReadonlyMap<string, readonly string[]>,
    options: {
      apiKeys: readonly string[];
      rateLimit: RateLimitOptions | false | undefined;
      latency: LatencyOptions | false | undefined;
      random: () => number;
    },
  ) {
    this.store = new RecordStore(keyFieldsByEntity);
    this.faults = new FaultRegistry(options.random);
    this.rateLimiter = new RateLimiter(options.rateLimit);
    this.apiKeyIds = options.apiKeys.map(apiKeyId);
    this.stats = newStats(this.apiKeyIds);
    this.latency = new Latency(options.latency, options.random);
  }

  /** Counts one answer by status. */
  countStatus(status: number): void {
    const key = String(status);
    this.stats.byStatus[key] = (this.stats.byStatus[key] ?? 0) + 1;
  }

  /** A fresh `debug.activityID` (VBA's shape: a connection id and a counter). */
  nextActivityId(): string {
    return `${this.activityPrefix}:${(++this.activity).toString(16).toUpperCase().padStart(8, "0")}`;
  }

  /** A copy of the counters. */
  snapshotStats(): MockStats {
    return {
      ...this.stats,
      byStatus: { ...this.stats.byStatus },
      records: { ...this.stats.records },
      byApiKey: Object.fromEntries(
        Object.entries(this.stats.byApiKey).map(([id, counters]) => [id, { ...counters }]),
      ),
      faultsInjected: this.faults.injected,
    };
  }

  /** Clears the store, the faults and the counters, and refills the rate-limit buckets. */
  reset(): void {
    this.store.clear();
    this.faults.clear();
    this.faults.injected = 0;
    this.rateLimiter.reset();
    this.stats = newStats(this.apiKeyIds);
  }
}
