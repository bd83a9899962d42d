// How the bulk engine reaches a client's request path: each client registers its context here
// when it is created, and `upsertAll` looks it up. A client-like wrapper that was not made by
// createVbapiClient has no context and is called through its public upsertBatch instead.

import type { BatchContext } from "./batch.ts";
import type { Limiter } from "./rate-limit.ts";

export interface BulkContext {
  batch: BatchContext;
  /** Throws ConfigurationError when a credential is missing. */
  checkCredentials(): void;
  /** The client's limiter (its rate sizes a bulk run's concurrency; record 429s pause it). */
  limiter: Limiter;
  /** Cap on a server-requested pause, as the client's backoff says. */
  maxRetryAfterMs: number;
}

const contexts = new WeakMap<object, BulkContext>();

/**
 * Set on the options of the calls a bulk run makes through a client-like wrapper's public
 * upsertBatch: a function the client hands its telemetry to, so that the run counts its records
 * once, as they become final, and the call does not.
 */
export const FROM_BULK_RUN: unique symbol = Symbol.for("@vbapi-sdk/client.fromBulkRun");

export function registerContext(client: object, context: BulkContext): void {
  contexts.set(client, context);
}

export function contextOf(client: object): BulkContext | undefined {
  return contexts.get(client);
}
