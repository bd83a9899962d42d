/**
 * `upsertAll`: the bulk engine wired to a {@link VbapiClient}, generic over the entity table.
 */
import { UPSERT_SERIALIZED, type UpsertSerialized, type VbapiClient } from "../core/client.js";
import {
  AbortError,
  ApiError,
  ConfigurationError,
  ConnectionError,
  ResponseParseError,
  TimeoutError,
  ValidationError,
  VbapiError,
} from "../core/errors.js";
import { keyOf } from "../core/results.js";
import { isRetryableStatus } from "../core/retry.js";
import type { RequestOptions } from "../core/transport.js";
import { validateRecords } from "../core/validate.js";
import {
  type EntityKey,
  type EntityName,
  type EntityPathParams,
  type EntityRecord,
  entities,
} from "../generated/entities.js";
import { recordValidators } from "../generated/validators.js";
import type { BulkReport } from "../types.js";
import {
  type BulkDriver,
  type BulkOptions,
  type DriverStats,
  type RequestFailure,
  runBulk,
  type SendResult,
} from "./engine.js";
import type { BulkInput } from "./source.js";

/** The part of a client `upsertAll` uses: any {@link VbapiClient} will do. */
export type BulkClient = Pick<VbapiClient, "upsertBatch">;

type PathParamsOption<E extends EntityName> = [EntityPathParams<E>] extends [never]
  ? { pathParams?: undefined }
  : { pathParams: EntityPathParams<E> };

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

const FATAL_STATUSES = new Set([401, 403]);

function describe(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return "unknown error";
}

/** Classifies a rejected `upsertBatch` call (see {@link RequestFailure}). */
export function classifyRequestError(error: unknown, signal?: AbortSignal): RequestFailure {
  const base = { status: 0, retryable: false, ambiguous: false, fatal: false, aborted: false };
  if (error instanceof AbortError || signal?.aborted) {
    const ambiguous = error instanceof AbortError ? error.mayHaveBeenApplied : true;
    return { ...base, aborted: true, ambiguous, message: "the request was aborted" };
  }
  if (error instanceof ApiError) {
    return {
      ...base,
      status: error.status,
      message: error.message,
      retryable: isRetryableStatus(error.status) || error.status === 500,
      fatal: FATAL_STATUSES.has(error.status),
      activityId: error.activityId,
    };
  }
  if (error instanceof ConnectionError || error instanceof TimeoutError) {
    return {
      ...base,
      message: error.message,
      retryable: true,
      ambiguous: error.mayHaveBeenApplied,
    };
  }
  if (error instanceof ResponseParseError) {
    // A 2xx answer that could not be read: the server processed the batch.
    return {
      ...base,
      status: error.status,
      message: error.message,
      retryable: true,
      ambiguous: true,
      activityId: error.activityId,
    };
  }
  if (error instanceof ValidationError) return { ...base, message: error.message };
  if (error instanceof ConfigurationError) return { ...base, message: error.message, fatal: true };
  if (error instanceof VbapiError)
    return { ...base, message: error.message, retryable: true, ambiguous: true };
  // Not an SDK error: a bug or an environment problem. Stop rather than repeat it.
  return { ...base, message: `unexpected ${describe(error)}`, fatal: true, ambiguous: true };
}

/** Message of a record that failed client-side validation: fields and reasons, never values. */
function invalidMessage(issues: { path: string; message: string }[]): string {
  return issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join("; ");
}

function clientDriver<E extends EntityName>(
  client: BulkClient,
  entity: E,
  options: UpsertAllOptions<E>,
): BulkDriver<EntityRecord<E>, EntityKey<E>> {
  const def = entities[entity];
  const pathParams = options.pathParams as EntityPathParams<E> | undefined;
  const signal = options.signal;
  const validator = recordValidators[entity];
  const noPathParams = def.pathParams.length === 0;
  // The client's own fast path (records already validated and serialized), when it has one; a
  // wrapper that only offers upsertBatch is called through upsertBatch.
  const serialized = (client as { [UPSERT_SERIALIZED]?: UpsertSerialized })[UPSERT_SERIALIZED];
  return {
    countsRequests: true,
    keyOf: (record) => keyOf<EntityKey<E>>(record, def.keys),
    validate(record) {
      // Fast path: a valid record of an entity without path parameters allocates nothing.
      if (noPathParams && validator(record, 0, null)) return undefined;
      const issues = validateRecords(entity, [record], pathParams as never).filter(
        (i) => i.index >= 0,
      );
      return issues.length > 0 ? invalidMessage(issues) : undefined;
    },
    async send(records, sendSignal, stats: DriverStats, json?: string): Promise<SendResult> {
      let earlierAttemptMayHaveApplied = false;
      stats.requests++;
      const request: RequestOptions & { validate: false } = {
        validate: false,
        signal: sendSignal,
        timeoutMs: options.timeoutMs,
        maxRetries: options.maxRetries,
        onRetry(info) {
          stats.requests++;
          stats.requestRetries++;
          if (info.status === 429) stats.rateLimited++;
          if (info.reason === "connection" || info.reason === "timeout") {
            earlierAttemptMayHaveApplied = true;
          }
        },
      };
      try {
        const upsert = client.upsertBatch as (
          entity: EntityName,
          records: readonly unknown[],
          options: unknown,
        ) => Promise<SendResult>;
        const result =
          serialized !== undefined && json !== undefined
            ? await serialized(entity, records, json, { ...request, pathParams })
            : await upsert(entity, records, { ...request, pathParams });
        return { ...result, earlierAttemptMayHaveApplied };
      } catch (error) {
        if (error instanceof ApiError && error.status === 429) stats.rateLimited++;
        if (earlierAttemptMayHaveApplied && error instanceof VbapiError) {
          Object.defineProperty(error, "earlierAttemptMayHaveApplied", { value: true });
        }
        throw error;
      }
    },
    classify(error) {
      const failure = classifyRequestError(error, signal);
      if ((error as { earlierAttemptMayHaveApplied?: boolean }).earlierAttemptMayHaveApplied) {
        failure.ambiguous = true;
      }
      return failure;
    },
  };
}

/**
 * Upserts any number of records of one entity through the batch endpoint: lazily read,
 * validated, chunked, sent with bounded concurrency through the client's shared rate limiter,
 * per-record retried, and accounted for one by one.
 *
 * - **Input**: an array, an iterable or an async iterable. It is read lazily: at most
 *   `chunkSize × concurrency` records (plus one) are held at a time; after a record's
 *   outcome is known only its key and outcome are kept, for the report.
 * - **Chunks**: at most `chunkSize` records (default 500) and `maxChunkBytes` bytes of JSON
 *   (default 1 MiB) per request. A record larger than `maxChunkBytes` is sent alone.
 *   Records with the same key never share a request and are applied in input order (a
 *   record waits until the earlier one with its key has a final outcome).
 * - **Validation**: invalid records are not sent; they are reported `failed` with status 0 and
 *   a message naming the fields and reasons (never values). Invalid `pathParams` reject the
 *   call with a `ValidationError` before anything is read.
 * - **Per-record retry**: a record whose per-record status is 408, 429, 5xx or missing from
 *   the answer (status 0) is re-sent in a later request, at most `maxRecordRetries` times
 *   (default 3), after `recordRetryDelayMs` (default 250 ms, doubling). Records that succeeded
 *   are never re-sent.
 * - **Whole-request failures**: the client already retries the request itself (`maxRetries`).
 *   When it finally fails with a retryable error (408, 429, 500, 502, 503, 504, connection
 *   reset, timeout, unreadable 2xx answer), its records are re-queued ONCE (within
 *   `maxRecordRetries`); otherwise, or the second time, they are failed with that status and
 *   message. A 401 or 403 stops the run: that request's records are failed, records not yet
 *   sent are reported `not_attempted` (an iterable input is not read further, as on abort).
 * - **Ambiguity**: a record whose request may have been applied although no success was
 *   reported (connection reset or timeout after sending, an unreadable 2xx answer, a record
 *   the server did not report on, an abort in flight) and that finally fails is reported with
 *   `mayHaveBeenApplied: true` and a message saying "may have been applied": re-check it.
 * - **Abort** (`signal`): no further request is sent and requests in flight are cancelled; the
 *   promise RESOLVES with the report. Records never sent are `not_attempted`; records in a
 *   cancelled request are `failed` ("may have been applied"). With an array input every record
 *   is in the report; with an iterable input, records not yet read are not read (the iterator is
 *   closed) and so are not in the report.
 * - **Rate**: every request goes through the client's shared token bucket (25 req/s, burst 45
 *   by default), which also pauses every request of the client after a 429; `concurrency`
 *   only bounds the requests under way.
 * - **Report**: every record read, once, by input index; `requests` counts HTTP requests
 *   (including the client's own retries), `retries` counts the client's whole-request retries
 *   plus record re-sends, `rateLimited` the 429 answers, `activityIds` VBA's ids of the
 *   answered requests. Messages never contain record values or credentials (VBA's per-record
 *   messages are passed on, cut at 500 characters).
 * - **Errors**: the promise rejects only for programming errors (bad options, unknown entity,
 *   invalid `pathParams`) and when the input itself throws: then with a `BulkInputError`
 *   whose `report` accounts for every record read before.
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
  if (!Object.hasOwn(entities, entity)) {
    throw new ConfigurationError(`upsertAll: unknown entity ${String(entity)}`);
  }
  const pathIssues = validateRecords(entity, [], options.pathParams as never);
  if (pathIssues.length > 0) throw new ValidationError(entity, pathIssues);
  return runBulk(clientDriver(client, entity, options), records, options);
}
