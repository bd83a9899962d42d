/**
 * `upsertAll`: the bulk engine wired to a {@link VbapiClient}, generic over the entity table.
 */

import {
  AbortError,
  ApiError,
  ConfigurationError,
  NoResponseError,
  RequestSetupError,
  ResponseParseError,
  TimeoutError,
  TokenProviderError,
  ValidationError,
  VbapiError,
} from "../base/errors.ts";
import { keyIdOf, keyOf } from "../base/keys.ts";
import { gatewayGaveUp, isFatalStatus, shouldRetryStatus } from "../base/retry.ts";
import type { BatchResult, BulkReport } from "../base/types.ts";
import { checkRecord, validateRecords } from "../base/validate.ts";
import { entityDef, type PathParamsOption, type VbapiClient } from "../client/client.ts";
import { checkTimeout } from "../client/config.ts";
import type {
  EntityKey,
  EntityName,
  EntityPathParams,
  EntityRecord,
} from "../generated/entities.ts";
import { type BatchOutcome, sendBatch } from "../transport/batch.ts";
import { contextOf, FROM_BULK_RUN } from "../transport/context.ts";
import { RateLimiter } from "../transport/rate-limit.ts";
import {
  context as activeContext,
  type Context,
  SpanKind,
  SpanStatusCode,
  type Telemetry,
  trace,
} from "../transport/telemetry.ts";
import type { RequestOptions } from "../transport/transport.ts";
import { runBulk } from "./engine.ts";
import type { BulkDriver, BulkOptions, RequestFailure, SendOutcome } from "./options.ts";
import type { BulkInput } from "./source.ts";

/** The part of a client `upsertAll` uses: any {@link VbapiClient} will do. */
export type BulkClient = Pick<VbapiClient, "upsertBatch">;

/** Options of {@link upsertAll}. */
export type UpsertAllOptions<E extends EntityName = EntityName> = BulkOptions<EntityKey<E>> & {
  /** Per-attempt timeout of each request (default: the client's, 30 s). */
  timeoutMs?: number;
  /** Whole-request retries of each request by the client (default: the client's, 2). */
  maxRetries?: number;
} & PathParamsOption<E>;

/** The options argument: required for entities whose path has parameters (ProviderCredService). */
export type UpsertAllArgs<E extends EntityName> = [EntityPathParams<E>] extends [never]
  ? [options?: UpsertAllOptions<E>]
  : [options: UpsertAllOptions<E>];

/** How the engine treats a request that failed as a whole (the policy is core/retry.ts). */
function requestFailure(
  error: unknown,
  mayHaveBeenApplied: boolean,
  signal: AbortSignal | undefined,
): RequestFailure {
  const base = { status: 0, retryable: false, mayHaveBeenApplied, fatal: false, aborted: false };
  if (error instanceof AbortError || (signal?.aborted && !(error instanceof ApiError))) {
    return { ...base, aborted: true, message: "the request was aborted" };
  }
  if (error instanceof ApiError) {
    return {
      ...base,
      status: error.status,
      message: error.message,
      retryable: shouldRetryStatus(error.status),
      fatal: isFatalStatus(error.status),
      activityId: error.activityId,
    };
  }
  const message = error instanceof Error ? error.message : "unknown error";
  // Nothing was sent, and every request would fail the same way: stop the run.
  if (error instanceof RequestSetupError || error instanceof ConfigurationError) {
    return { ...base, message, fatal: true };
  }
  if (error instanceof TimeoutError) return { ...base, message, retryable: true, timedOut: true };
  if (error instanceof NoResponseError) {
    // Never sent when the server (or the SDK's own login: `retried`) cannot be reached; a token
    // provider's own failure (a vault) is not the server's.
    const server = !(error instanceof TokenProviderError) || error.retried;
    return { ...base, message, retryable: true, unreachable: server && !mayHaveBeenApplied };
  }
  if (error instanceof ResponseParseError) {
    // A 2xx answer that could not be read: the server processed the batch.
    return {
      ...base,
      status: error.status,
      message,
      retryable: true,
      activityId: error.activityId,
    };
  }
  if (error instanceof ValidationError) return { ...base, message };
  if (error instanceof VbapiError) return { ...base, message, retryable: true };
  // Not an SDK error (a wrapper client's own): stop rather than repeat it.
  const name = error instanceof Error ? error.name : typeof error;
  return {
    ...base,
    message: `unexpected ${name} from upsertBatch`,
    fatal: true,
    mayHaveBeenApplied: true,
  };
}

function clientDriver<E extends EntityName>(
  client: BulkClient,
  entity: E,
  options: UpsertAllOptions<E>,
  traceContext: Context | undefined,
  adoptTelemetry: (telemetry: Telemetry | undefined) => void,
): BulkDriver<EntityRecord<E>, EntityKey<E>> {
  const def = entityDef("upsertAll", entity);
  const pathParams = options.pathParams as EntityPathParams<E> | undefined;
  const { signal } = options;
  const context = contextOf(client);
  const ownBucket = context?.limiter instanceof RateLimiter ? context.limiter : undefined;
  return {
    // The client's own bucket says its rate and burst. A limiter shared with other processes
    // (Redis) does not: its burst and rate belong to all of them, so the engine does not size
    // this process's concurrency by them.
    rate() {
      return ownBucket?.requestsPerSecond;
    },
    burst() {
      return ownBucket?.burst;
    },
    onRecordsRateLimited() {
      context?.limiter.backOff(undefined, context.maxRetryAfterMs);
    },
    keyOf: (record) => keyOf<EntityKey<E>>(record, def.keys),
    keyIdOf: (key) => keyIdOf(key as Record<string, unknown>, def.keys),
    prepare(record) {
      const check = checkRecord(entity, record, pathParams, true);
      if (check.ok) return check;
      const message = check.issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message));
      return { ok: false, message: message.join("; ") };
    },
    async send(records, json, sendSignal, stats, keys): Promise<SendOutcome> {
      stats.requests++;
      let earlierAttempt = false;
      // A gateway answered 502/504 and the call was retried: the server behind it may still
      // apply that attempt (the transport counts only attempts with no answer).
      let gatewayAttempt = false;
      const request: RequestOptions = {
        signal: sendSignal,
        timeoutMs: options.timeoutMs,
        maxRetries: options.maxRetries,
        onRetry(info) {
          stats.requests++;
          stats.requestRetries++;
          if (info.status === 429) stats.rateLimited++;
          // A client-like wrapper reports no `mayHaveBeenApplied` of its own: an attempt that
          // timed out or lost its connection may have been applied before the retry answered.
          if (info.reason === "connection" || info.reason === "timeout") earlierAttempt = true;
          if (gatewayGaveUp(info.status)) gatewayAttempt = true;
        },
      };
      let outcome: BatchOutcome<unknown>;
      if (context !== undefined) {
        outcome = await sendBatch(context.batch, entity, records, json, {
          ...request,
          pathParams,
          keys,
          traceContext,
        });
      } else {
        // A client-like wrapper: through its public upsertBatch (it serializes again).
        const upsert = client.upsertBatch as (
          entity: EntityName,
          records: readonly unknown[],
          options: unknown,
        ) => Promise<BatchResult<unknown>>;
        outcome = await upsert(entity, records, {
          ...request,
          validate: false,
          pathParams,
          [FROM_BULK_RUN]: adoptTelemetry,
        }).then(
          (result) => ({ ok: true as const, result, mayHaveBeenApplied: earlierAttempt }),
          (error: unknown) => ({
            ok: false as const,
            error: error as VbapiError,
            // An error answer (ApiError) applied nothing (but a gateway's 502/504: the engine
            // flags those itself); an unreadable 2xx or an error the SDK does not know may have.
            mayHaveBeenApplied:
              earlierAttempt ||
              (error instanceof NoResponseError
                ? error.mayHaveBeenApplied
                : !(error instanceof ApiError)),
          }),
        );
      }
      if (gatewayAttempt) outcome.mayHaveBeenApplied = true;
      if (outcome.ok) return outcome;
      if (outcome.error instanceof ApiError && outcome.error.status === 429) stats.rateLimited++;
      return {
        ok: false,
        failure: requestFailure(outcome.error, outcome.mayHaveBeenApplied, signal),
      };
    },
  };
}

/**
 * Upserts any number of records of one entity through the batch endpoint: lazily read,
 * validated, chunked, sent with bounded concurrency through the client's shared rate limiter,
 * per-record retried, and accounted for one by one. See the client README ("Bulk upserts") for
 * the whole contract; in short:
 *
 * - **Input**: an array, an iterable or an async iterable, read lazily (at most
 *   `chunkSize × concurrency` records held). A slow input's partly filled chunk goes after
 *   `lingerMs`.
 * - **Chunks**: at most `chunkSize` records (500) and `maxChunkBytes` (1 MiB) per request;
 *   records with the same key never share a request and go in input order, each once the one
 *   before it is final. After a record went in a request given up on without its answer, or
 *   answered 502/504 by a gateway (it may still be applied later), the later records with its
 *   key are not sent: `not_attempted`.
 * - **Invalid records** (including ones whose getter or `toJSON` throws) are not sent; they
 *   are reported `failed` with status 0 and a message naming fields and reasons, never values.
 * - **Per-record retry**: 408, 429, 5xx, or not reported (status 0): re-sent up to
 *   `maxRecordRetries` (3) times. A record counts as created/updated only when an entry with
 *   its own key says so.
 * - **Whole-request failures**: after the client's own retries, a retryable failure re-queues
 *   the records once; a 401/403 or a request that cannot be built stops the run (records never
 *   sent are `not_attempted`). A request that never left the machine stops the run at once
 *   before its first answer; after it, its records are re-sent with growing delays (see
 *   `maxRecordRetries`) before the run stops. Once stopped, a record that would be re-sent is
 *   `not_attempted` with `stopped` set.
 * - **mayHaveBeenApplied**: a record that finally failed although an attempt may have reached
 *   the server. A record that never left the machine is never flagged.
 * - **Abort**: resolves promptly with the report; never-sent records are `not_attempted`.
 * - **Streaming**: `onRecord` gets each final item; `report: "totals"` keeps only counts.
 * - **Errors**: rejects only for programming errors (bad options, unknown entity, invalid
 *   `pathParams`), a throwing input (`BulkInputError`) or `onRecord` (`BulkCallbackError`),
 *   both with the report.
 *
 * @example
 * const report = await upsertAll(client, "Event", readEvents(), { concurrency: 4, onProgress });
 * for (const item of report.items) if (item.outcome === "failed") console.log(item.key, item.message);
 */
export async function upsertAll<E extends EntityName>(
  client: BulkClient,
  entity: E,
  records: BulkInput<EntityRecord<E>>,
  ...args: UpsertAllArgs<E>
): Promise<BulkReport<EntityKey<E>>> {
  const options = (args[0] ?? {}) as UpsertAllOptions<E>;
  entityDef("upsertAll", entity);
  checkTimeout("upsertAll", options.timeoutMs);
  const pathIssues = validateRecords(entity, [], options.pathParams as never);
  if (pathIssues.length > 0) throw new ValidationError(entity, pathIssues);
  const context = contextOf(client);
  context?.checkCredentials();
  // With telemetry: one `vbapi.upsert_all {entity}` span over the run's batch spans, with totals.
  // Through a client-like wrapper, the client inside hands its telemetry over on the first call.
  let telemetry = context?.batch.telemetry;
  const adoptTelemetry = (found: Telemetry | undefined) => {
    telemetry ??= found;
  };
  const span = telemetry?.start(`vbapi.upsert_all ${entity}`, SpanKind.INTERNAL, {
    "vbapi.entity": entity,
    ...(context?.batch.database !== undefined && { "vbapi.database": context.batch.database }),
  });
  const traceContext = span && trace.setSpan(activeContext.active(), span);
  // Records are counted as each becomes final, so a collector sees a load as it runs; what the
  // stream missed (an onRecord that threw stops it) is counted from the totals at the end.
  const onRecord = options.onRecord;
  const counted: Record<string, number> = {};
  const runOptions: UpsertAllOptions<E> = {
    ...options,
    onRecord(item) {
      try {
        if (telemetry) {
          telemetry.countRecords(entity, item.outcome, 1);
          counted[item.outcome] = (counted[item.outcome] ?? 0) + 1;
        }
      } catch {
        // A failing meter never fails a run (nor passes for the caller's onRecord failing).
      }
      onRecord?.(item);
    },
  };
  let report: BulkReport<EntityKey<E>> | undefined;
  try {
    report = await runBulk(
      clientDriver(client, entity, options, traceContext, adoptTelemetry),
      records,
      runOptions,
    );
    return report;
  } catch (error) {
    report = (error as { report?: BulkReport<EntityKey<E>> }).report;
    span?.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).name });
    span?.setAttribute("error.type", (error as Error).name);
    throw error;
  } finally {
    if (report && telemetry) {
      const t = report.totals;
      const totals = {
        created: t.created,
        updated: t.updated,
        failed: t.failed,
        not_attempted: t.notAttempted,
      };
      for (const [outcome, n] of Object.entries(totals)) {
        telemetry.countRecords(entity, outcome, n - (counted[outcome] ?? 0));
      }
      span?.setAttributes({
        "vbapi.records": t.total,
        "vbapi.records.created": t.created,
        "vbapi.records.updated": t.updated,
        "vbapi.records.failed": t.failed,
        "vbapi.records.not_attempted": t.notAttempted,
        "vbapi.requests": report.requests,
        "vbapi.rate_limited": report.rateLimited,
      });
    }
    span?.end();
  }
}
