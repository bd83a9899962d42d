// The one request path of a batch upsert, shared by `upsertBatch` and the bulk engine: build
// the request for an entity, send it through the transport, and turn the answer into per-record
// results. It never throws for what the server or the network did: it returns the outcome
// together with whether the request may have been applied.
import { createFinalURL, defaultPathSerializer } from "openapi-fetch";
import {
  apiErrorFromAnswer,
  NoResponseError,
  ResponseParseError,
  VbapiError,
} from "../base/errors.ts";
import type { Logger } from "../base/logger.ts";
import { clip, fold, MAX_CLEANED_TEXT, redactAll, type View, views } from "../base/redact.ts";
import type { BatchItem, BatchResult } from "../base/types.ts";
import { type EntityName, entities } from "../generated/entities.ts";
import { matchItems, toBatchResult, USUAL_MESSAGES } from "./results.ts";
import { context, SpanKind, SpanStatusCode, type Telemetry, trace } from "./telemetry.ts";
import type { Answer, InternalRequestOptions, Transport } from "./transport.ts";

/** What a client hands to the request path. */
export interface BatchContext {
  transport: Transport;
  baseUrl: string;
  /** Headers of every batch request (credentials included), built once per client. */
  headers: Record<string, string>;
  logger: Logger;
  /** Removes the client's secrets from text. */
  scrub: (text: string) => string;
  /** Per-entity targets of entities without path parameters. */
  targets: Map<string, Target>;
  /** Spans and metrics; undefined when switched off. */
  telemetry?: Telemetry | undefined;
  /** The `vbasoftware-database` of every call, for spans. */
  database?: string | undefined;
}

interface Target {
  url: string;
  /** "PUT /vbasoftware/events-batch" */
  what: string;
  /** "PUT /provider-credentialing/7/services-batch", for error messages. */
  operation: string;
}

export type BatchOutcome<K> =
  | { ok: true; result: BatchResult<K>; mayHaveBeenApplied: boolean }
  | {
      ok: false;
      error: VbapiError;
      /** True when the request (or an earlier attempt of it) may have been applied. */
      mayHaveBeenApplied: boolean;
    };

function targetOf(
  ctx: BatchContext,
  entity: EntityName,
  pathParams: Record<string, unknown> | undefined,
): Target {
  const def = entities[entity];
  const cacheable = def.pathParams.length === 0;
  const cached = cacheable ? ctx.targets.get(entity) : undefined;
  if (cached) return cached;
  const url = createFinalURL(def.path, {
    baseUrl: ctx.baseUrl,
    params: { path: pathParams },
    querySerializer: () => "",
    pathSerializer: defaultPathSerializer,
  } as never);
  const target: Target = {
    url,
    what: `PUT ${new URL(url).pathname}`,
    operation: `PUT ${def.path.replace(/\{(\w+)\}/g, (_, p: string) => String(pathParams?.[p]))}`,
  };
  if (cacheable) ctx.targets.set(entity, target);
  return target;
}

/** Shortest record value removed from server text (so ordinary words in messages survive). */
const MIN_VALUE = 6;
/** Shortest record value removed in any letter case (a 6- or 7-letter word stays as written). */
const MIN_ANY_CASE = 8;

/**
 * Removes the client's secrets and the records' values from server text. Each distinct text is
 * cleaned once (a 207 repeats "Created" for every record); the records' values are collected
 * once per request, only when a text other than VBA's usual words comes, and each text is
 * searched only for the values it can hold (see valuesIn).
 */
function cleaner(ctx: BatchContext, records: readonly unknown[]): (text: string) => string {
  let values: RecordValues | undefined;
  const done = new Map<string, string>();
  return (text) => {
    let out = done.get(text);
    if (out === undefined) {
      out = ctx.scrub(text);
      if (out.length >= MIN_VALUE && !USUAL_MESSAGES.has(out)) {
        values ??= recordValues(records);
        const found = valuesIn(out, values);
        if (found !== undefined) out = redactAll(out, found.anyCase, found);
      }
      if (done.size < 1_000) done.set(text, out);
    }
    return out;
  };
}

interface RecordValues {
  /** String values of MIN_VALUE characters or more, as they are (repeats possible). */
  strings: string[];
  /** Number values that are written with MIN_VALUE characters or more. */
  numbers: number[];
}

/**
 * The records' own field values worth looking for in server text, collected as they are (a
 * Date as the ISO text it is sent as).
 */
function recordValues(records: readonly unknown[]): RecordValues {
  const strings: string[] = [];
  const numbers: number[] = [];
  for (const record of records) {
    if (typeof record !== "object" || record === null) continue;
    try {
      // Object.values (own enumerable fields) measured faster than for-in with Object.hasOwn.
      for (const value of Object.values(record)) {
        if (typeof value === "string") {
          if (value.length >= MIN_VALUE) strings.push(value);
        } else if (value instanceof Date) {
          // Sent as its ISO text (JSON.stringify), also when the record was not validated.
          if (!Number.isNaN(value.getTime())) strings.push(value.toISOString());
        } else if (
          typeof value === "number" &&
          // Sent as written (JSON sends no Infinity or NaN); an integer under 100000 (and over
          // -10000) is written with fewer than 6 characters.
          Number.isFinite(value) &&
          (!Number.isInteger(value) || value >= 100_000 || value <= -10_000)
        ) {
          numbers.push(value);
        }
      }
    } catch {
      // A record with a throwing getter was already refused before sending.
    }
  }
  return { strings, numbers };
}

/**
 * The values `text` holds, by how they are matched: strings of MIN_ANY_CASE characters or more,
 * or with a digit, in any letter case; shorter ones as written (a 6- or 7-letter word stays in
 * any other case); numbers as whole numbers. A string is also looked for as escaped inside a
 * JSON string (a quote, a backslash); redactAll reads `\uXXXX` and HTML escapes itself.
 * Undefined when it holds none.
 */
function valuesIn(
  text: string,
  { strings, numbers }: RecordValues,
):
  | {
      anyCase: string[];
      exact: string[];
      numbers: string[];
      seen: { views: View[]; folded: string[] };
    }
  | undefined {
  const seen = views(text);
  const lower = seen.map((view) => fold(view.text));
  // A backslash as written, or as read (`\u005C`, `&#92;`): JSON-escaped forms may be there.
  const escapes = seen.some((view) => view.text.includes("\\"));
  const anyCase: string[] = [];
  const exact: string[] = [];
  const tried = new Set<string>();
  for (const value of strings) {
    if (value.length > text.length || tried.has(value)) continue;
    tried.add(value);
    const forms = [value];
    if (escapes) {
      const escaped = JSON.stringify(value).slice(1, -1);
      if (escaped !== value && escaped.length <= text.length) forms.push(escaped);
    }
    const ignoreCase = value.length >= MIN_ANY_CASE || /[0-9]/.test(value);
    for (const form of forms) {
      if (ignoreCase) {
        const find = fold(form);
        if (lower.some((l) => l.includes(find))) anyCase.push(form);
      } else if (seen.some((view) => view.text.includes(form))) exact.push(form);
    }
  }
  const whole: string[] = [];
  if (numbers.length > 0 && /[0-9]/.test(text)) {
    for (const value of numbers) {
      const written = String(value);
      if (written.length < MIN_VALUE || tried.has(written)) continue;
      tried.add(written);
      if (seen.some((view) => view.text.includes(written))) whole.push(written);
    }
  }
  return anyCase.length + exact.length + whole.length > 0
    ? { anyCase, exact, numbers: whole, seen: { views: seen, folded: lower } }
    : undefined;
}

const decoder = new TextDecoder("utf-8", { fatal: false });

type SendOptions<K> = InternalRequestOptions & {
  pathParams?: unknown;
  indices?: readonly number[] | undefined;
  /** The records' keys, when the caller has them already. */
  keys?: readonly K[] | undefined;
};

/**
 * Sends `records` (already validated) as one batch, `json` being their JSON array, and reports
 * every record's outcome in the order of `records` (`indices` gives the caller's index of each).
 * With telemetry, the call is a `vbapi.upsert_batch {entity}` span over its attempts' spans.
 */
export async function sendBatch<K>(
  ctx: BatchContext,
  entity: EntityName,
  records: readonly unknown[],
  json: string,
  options: SendOptions<K>,
): Promise<BatchOutcome<K>> {
  const target = targetOf(ctx, entity, options.pathParams as Record<string, unknown> | undefined);
  const tel = ctx.telemetry;
  const span = tel?.start(
    `vbapi.upsert_batch ${entity}`,
    SpanKind.INTERNAL,
    NO_ATTRIBUTES,
    options.traceContext,
  );
  // With no SDK registered the span records nothing: build no attributes and no context for it.
  const recording = span?.isRecording() === true;
  const attributes: Record<string, string | number> | undefined = recording
    ? {
        "vbapi.entity": entity,
        "vbapi.records": records.length,
        ...(ctx.database !== undefined && { "vbapi.database": ctx.database }),
      }
    : undefined;
  if (attributes) span?.setAttributes(attributes);
  let outcome: BatchOutcome<K> | undefined;
  try {
    const answer = await ctx.transport.execute(
      {
        method: "PUT",
        url: target.url,
        what: target.what,
        headers: ctx.headers,
        body: json,
        template: entities[entity].path,
        ...(attributes && { attributes }),
      },
      {
        ...options,
        traceContext:
          span && (recording || tel?.propagate)
            ? trace.setSpan(options.traceContext ?? context.active(), span)
            : options.traceContext,
        onAnswer(received) {
          outcome = interpret<K>(ctx, entity, records, target, received, options);
          return recording ? outcomeAttributes(outcome, records.length) : undefined;
        },
      },
    );
    outcome ??= interpret<K>(ctx, entity, records, target, answer, options);
  } catch (error) {
    outcome = failedToSend(error);
  } finally {
    if (span) {
      if (outcome && recording) {
        span.setAttributes(outcomeAttributes(outcome, records.length));
        if (!outcome.ok)
          span.setStatus({ code: SpanStatusCode.ERROR, message: outcome.error.name });
      }
      span.end();
    }
  }
  return outcome;
}

const NO_ATTRIBUTES = Object.freeze({});

/** What the batch span and the last attempt's span say of the outcome (never a record). */
function outcomeAttributes(
  outcome: BatchOutcome<unknown>,
  records: number,
): Record<string, string | number> {
  if (outcome.ok) {
    const { failed, activityId } = outcome.result;
    return {
      "vbapi.records.failed": failed,
      ...(activityId && { "vbapi.activity_id": activityId }),
    };
  }
  const { error } = outcome;
  const activityId = (error as { activityId?: unknown }).activityId;
  return {
    "vbapi.records.failed": records,
    "error.type": error.name,
    ...(typeof activityId === "string" && { "vbapi.activity_id": activityId }),
  };
}

/** A request that got no answer to read: the error, and whether it may have been applied. */
function failedToSend<K>(error: unknown): BatchOutcome<K> {
  if (error instanceof NoResponseError) {
    return { ok: false, error, mayHaveBeenApplied: error.mayHaveBeenApplied };
  }
  if (error instanceof ResponseParseError) {
    // An answer too large to read: the server did process the request.
    return { ok: false, error, mayHaveBeenApplied: true };
  }
  // Before sending: a login refused by VBA (ApiError), a bad option. Nothing left the machine.
  if (error instanceof VbapiError) return { ok: false, error, mayHaveBeenApplied: false };
  throw error;
}

/** The answer read: per-record results, or the error it amounts to. */
function interpret<K>(
  ctx: BatchContext,
  entity: EntityName,
  records: readonly unknown[],
  target: Target,
  answer: Answer,
  options: SendOptions<K>,
): BatchOutcome<K> {
  const { operation } = target;
  const { status, mayHaveBeenApplied } = answer;
  const text = decoder.decode(answer.body);
  // Server text may echo what it was sent: every piece of it is scrubbed of the client's secrets
  // and the records' string values, in an error answer and a 2xx alike.
  const clean = cleaner(ctx, records);
  if (status < 200 || status > 299) {
    const error = apiErrorFromAnswer(answer, text, operation, target.url, clean);
    return { ok: false, error, mayHaveBeenApplied };
  }
  let body: unknown;
  try {
    body = text.trim() === "" ? undefined : JSON.parse(text);
  } catch {
    const error = new ResponseParseError(`${operation}: the HTTP ${status} answer is not JSON`, {
      status,
    });
    return { ok: false, error, mayHaveBeenApplied: true };
  }
  const envelope = body as
    | { data?: unknown; debug?: { activityID?: unknown; activityId?: unknown } }
    | undefined;
  const activityIdRaw = envelope?.debug?.activityID ?? envelope?.debug?.activityId;
  const activityId =
    typeof activityIdRaw === "string" && activityIdRaw !== ""
      ? clean(activityIdRaw.slice(0, MAX_CLEANED_TEXT)).slice(0, 200)
      : undefined;
  if (
    typeof body !== "object" ||
    body === null ||
    Array.isArray(body) ||
    !(envelope?.data === null || Array.isArray(envelope?.data))
  ) {
    const error = new ResponseParseError(
      `${operation}: the HTTP ${status} answer is not a MultiCodeResponseListVBAResponse`,
      { status, activityId },
    );
    return { ok: false, error, mayHaveBeenApplied: true };
  }
  const matched = matchItems<K>(records, entities[entity].keys, envelope.data as unknown[] | null, {
    indices: options.indices,
    keys: options.keys,
  });
  if (matched.unmatchedEntries > 0) {
    ctx.logger.warn(
      `${operation}: ${matched.unmatchedEntries} entr${matched.unmatchedEntries === 1 ? "y" : "ies"} of the answer named no record of the request (or one already reported on) and ${matched.unmatchedEntries === 1 ? "was" : "were"} ignored${activityId ? ` [activityId ${activityId}]` : ""}`,
    );
  }
  // Cleaned whole, then cut: a secret or value across the cut would leave its first part.
  for (const item of matched.items)
    if (item.message) item.message = clip(clean(item.message.slice(0, MAX_CLEANED_TEXT)));
  const result = toBatchResult<K>(matched.items, activityId);
  ctx.logger.debug(
    `${operation}: ${result.succeeded} succeeded, ${result.failed} failed${activityId ? ` [activityId ${activityId}]` : ""}`,
  );
  return { ok: true, result, mayHaveBeenApplied };
}

/** Merges items of records refused before sending into a result, in index order. */
export function withRefused<K>(
  result: BatchResult<K>,
  refused: readonly BatchItem<K>[],
): BatchResult<K> {
  if (refused.length === 0) return result;
  const items = [...result.items, ...refused].sort((a, b) => a.index - b.index);
  return toBatchResult(items, result.activityId);
}
