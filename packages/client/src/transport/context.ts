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

export function registerContext(client: object, context: BulkContext): void {
  contexts.set(client, context);
}

export function contextOf(client: object): BulkContext | undefined {
  return contexts.get(client);
}
