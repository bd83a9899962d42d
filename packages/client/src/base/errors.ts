// The error tree. Every error the SDK raises is a VbapiError:
//
//   VbapiError
//   ├─ ConfigurationError          an option is missing or invalid (nothing was sent)
//   ├─ ValidationError             records failed client-side validation (nothing was sent)
//   ├─ ApiError                    the server answered with an error status (or a redirect)
//   │  ├─ BadRequestError 400, AuthenticationError 401, PermissionDeniedError 403,
//   │  └─ RateLimitError 429, InternalServerError 5xx
//   ├─ ResponseParseError          a 2xx answer that is not the documented body
//   ├─ NoResponseError             the request did not complete: `mayHaveBeenApplied` says
//   │  │                           whether the server may have received it
//   │  ├─ ConnectionError, TimeoutError, AbortError
//   │  ├─ RequestSetupError        failed before a byte was sent (never retried)
//   │  └─ TokenProviderError       the token provider failed (nothing was sent)
//   ├─ BulkRunError                a bulk run stopped: BulkInputError, BulkCallbackError
//   └─ BulkAccountingError         the bulk engine's bookkeeping broke (a bug)
//
// Errors never hold request bodies, headers, the API key or the token: they carry only the
// fields below, and toJSON()/inspect show nothing else (`cause` is kept for debugging but never
// serialized).
import type { ValidationIssue } from "../generated/validators.ts";
import { clip, MAX_CLEANED_TEXT } from "./redact.ts";
import { parseRetryAfter } from "./retry.ts";
import type { BulkReport } from "./types.ts";

export type { ValidationIssue };

const inspectSymbol = Symbol.for("nodejs.util.inspect.custom");

export class VbapiError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    // Non-enumerable, like Error's own, so inspect does not print it twice.
    Object.defineProperty(this, "name", {
      enumerable: false,
      value: new.target.name,
      writable: true,
    });
  }

  /** The fields safe to log or serialise (never `cause`). */
  toJSON(): Record<string, unknown> {
    const out: Record<string, unknown> = { name: this.name, message: this.message };
    for (const [key, value] of Object.entries(this)) {
      if (key !== "cause") out[key] = value;
    }
    return out;
  }
}

// util.inspect's hook (console.log of an error): the safe fields and the stack, never `cause`.
// Set on the prototype after the class rather than written as a `[symbol]()` method, so that the
// declarations need no type checker (isolated declarations, lib/build); a plain statement, not a
// class `static {}` block, which older browsers cannot parse. Still a non-enumerable method,
// named as before.
Object.defineProperty(VbapiError.prototype, inspectSymbol, {
  configurable: true,
  writable: true,
  value: {
    [inspectSymbol](this: VbapiError): string {
      const { name, message, ...rest } = this.toJSON();
      const fields = Object.keys(rest).length > 0 ? ` ${JSON.stringify(rest)}` : "";
      return `${String(name)}: ${String(message)}${fields}\n${(this.stack ?? "").split("\n").slice(1).join("\n")}`;
    },
  }[inspectSymbol],
});

/** The client is missing something it needs (API key, token, database) or an option is invalid. */
export class ConfigurationError extends VbapiError {}

/** Records failed client-side validation; nothing was sent. Issues name fields and reasons, never values. */
export class ValidationError extends VbapiError {
  readonly issues: ValidationIssue[];

  constructor(entity: string, issues: ValidationIssue[]) {
    const records = new Set(issues.map((i) => i.index)).size;
    const first = issues
      .slice(0, 5)
      .map(
        (i) =>
          `${i.index >= 0 ? `record ${i.index}` : "path parameters"}${i.path ? `, ${i.path}` : ""}: ${i.message}`,
      )
      .join("; ");
    super(
      `${records} invalid ${entity} record${records === 1 ? "" : "s"} (${issues.length} issue${
        issues.length === 1 ? "" : "s"
      }): ${first}${issues.length > 5 ? "; ..." : ""}`,
    );
    this.issues = issues;
  }
}

export interface ApiErrorFields {
  status: number;
  type?: string | undefined;
  title?: string | undefined;
  detail?: string | undefined;
  instance?: string | undefined;
  activityId?: string | undefined;
  /** Milliseconds the server asked to wait (Retry-After), when it said. */
  retryAfterMs?: number | undefined;
  /** For a 3xx: the origin (scheme, host, port) the server pointed to; nothing was sent there. */
  redirectOrigin?: string | undefined;
}

/** The server answered with an error status (after retries, when the status is retryable). */
export class ApiError extends VbapiError {
  readonly status: number;
  readonly type: string | undefined;
  readonly title: string | undefined;
  readonly detail: string | undefined;
  readonly instance: string | undefined;
  /** VBA's `debug.activityID` for the call: quote it when asking VBA about it. */
  readonly activityId: string | undefined;
  readonly retryAfterMs: number | undefined;
  readonly redirectOrigin: string | undefined;

  constructor(message: string, fields: ApiErrorFields) {
    super(message);
    this.status = fields.status;
    this.type = fields.type;
    this.title = fields.title;
    this.detail = fields.detail;
    this.instance = fields.instance;
    this.activityId = fields.activityId;
    this.retryAfterMs = fields.retryAfterMs;
    this.redirectOrigin = fields.redirectOrigin;
  }

  /** The ApiError subclass for a status, with a message built from the safe fields. */
  static from(fields: ApiErrorFields, operation: string): ApiError {
    const summary = [fields.title, fields.detail].filter(Boolean).join(": ");
    const redirect =
      fields.status >= 300 && fields.status < 400
        ? ` redirecting to ${fields.redirectOrigin ?? "an unnamed location"}; redirects are not followed and nothing was re-sent`
        : "";
    const message = `${operation} failed with HTTP ${fields.status}${redirect}${summary ? ` (${summary})` : ""}${
      fields.activityId ? ` [activityId ${fields.activityId}]` : ""
    }`;
    const s = fields.status;
    if (s === 400) return new BadRequestError(message, fields);
    if (s === 401) return new AuthenticationError(message, fields);
    if (s === 403) return new PermissionDeniedError(message, fields);
    if (s === 429) return new RateLimitError(message, fields);
    if (s >= 500) return new InternalServerError(message, fields);
    return new ApiError(message, fields);
  }
}

/**
 * Builds the typed error for a non-2xx answer from its body (RFC 7807 problem details, VBA's
 * envelope, or text). Every text field goes through `scrub` and is cut to 500 characters; for a
 * 3xx only the origin of `Location` is kept.
 */
export function apiErrorFromAnswer(
  answer: { status: number; statusText: string; headers: Headers },
  text: string,
  operation: string,
  requestUrl: string,
  scrub: (s: string) => string,
): ApiError {
  let body: unknown = text === "" ? undefined : text;
  try {
    body = JSON.parse(text);
  } catch {}
  const b = (typeof body === "object" && body !== null ? body : {}) as Record<string, unknown>;
  const problem = (typeof b.error === "object" && b.error !== null ? b.error : b) as Record<
    string,
    unknown
  >;
  const debug = (typeof b.debug === "object" && b.debug !== null ? b.debug : {}) as Record<
    string,
    unknown
  >;
  const clean = (v: unknown) =>
    typeof v === "string" && v !== "" ? clip(scrub(v.slice(0, MAX_CLEANED_TEXT))) : undefined;
  let redirectOrigin: string | undefined;
  if (answer.status >= 300 && answer.status < 400) {
    try {
      const location = answer.headers.get("location");
      if (location) redirectOrigin = new URL(location, requestUrl).origin;
    } catch {}
  }
  return ApiError.from(
    {
      status: answer.status,
      type: clean(problem.type),
      title: clean(problem.title) ?? (answer.statusText ? clean(answer.statusText) : undefined),
      detail: clean(problem.detail) ?? (typeof body === "string" ? clean(body) : undefined),
      instance: clean(problem.instance),
      activityId:
        clean(debug.activityID) ??
        clean(debug.activityId) ??
        clean(b.activityID) ??
        clean(b.activityId),
      retryAfterMs: parseRetryAfter(answer.headers.get("retry-after")),
      redirectOrigin,
    },
    operation,
  );
}

export class BadRequestError extends ApiError {}
export class AuthenticationError extends ApiError {}
/** 403. VBA also answers 403 to a request without a User-Agent header. */
export class PermissionDeniedError extends ApiError {}
export class RateLimitError extends ApiError {}
export class InternalServerError extends ApiError {}

/** A 2xx answer whose body is not JSON, not the expected shape, or larger than the cap. */
export class ResponseParseError extends VbapiError {
  readonly status: number;
  readonly activityId: string | undefined;

  constructor(message: string, options: { status: number; activityId?: string | undefined }) {
    super(message);
    this.status = options.status;
    this.activityId = options.activityId;
  }
}

/** The request did not complete: no usable answer arrived. */
export class NoResponseError extends VbapiError {
  /**
   * True when the request (or an earlier attempt of it) may have reached the server, so its
   * records may have been applied. False when nothing left the machine.
   */
  readonly mayHaveBeenApplied: boolean;

  constructor(message: string, options: { mayHaveBeenApplied: boolean; cause?: unknown }) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.mayHaveBeenApplied = options.mayHaveBeenApplied;
  }
}

/** The connection failed. */
export class ConnectionError extends NoResponseError {
  /** A short, safe description of the low-level cause (e.g. an errno code). */
  readonly code: string | undefined;

  constructor(
    message: string,
    options: { mayHaveBeenApplied: boolean; code?: string | undefined; cause?: unknown },
  ) {
    super(message, options);
    this.code = options.code;
  }
}

/** An attempt took longer than `timeoutMs` (and retries, if any, were used up). */
export class TimeoutError extends NoResponseError {
  readonly timeoutMs: number;

  constructor(message: string, options: { mayHaveBeenApplied: boolean; timeoutMs: number }) {
    super(message, options);
    this.timeoutMs = options.timeoutMs;
  }
}

/** The caller's AbortSignal fired. */
export class AbortError extends NoResponseError {}

/**
 * The request could not be built or handed to `fetch` (an invalid header value, an unsupported
 * URL, a `fetch` that threw before sending): nothing was sent, and it is never retried.
 */
export class RequestSetupError extends NoResponseError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { mayHaveBeenApplied: false, cause: options.cause });
  }
}

/**
 * The token provider threw, returned something that is not a usable token, or did not settle
 * within the attempt's timeout: nothing was sent. Retried like a connection error, unless the
 * provider already retried it (`retried`). The provider's own error is kept as `cause` (never
 * serialized); the message repeats it only when it is the SDK's own (safe) message.
 */
export class TokenProviderError extends NoResponseError {
  /**
   * The provider retried the failure itself (passwordLogin retries its connections): the
   * client does not retry it again, so retries never multiply.
   */
  readonly retried: boolean;

  constructor(message: string, options: { cause?: unknown; retried?: boolean } = {}) {
    super(message, { mayHaveBeenApplied: false, cause: options.cause });
    this.retried = options.retried ?? false;
  }
}

/** A bulk run that was stopped by something other than the network; carries its report. */
export class BulkRunError<K = Record<string, unknown>> extends VbapiError {
  constructor(
    message: string,
    /** Outcome of every record read before the run stopped. */
    readonly report: BulkReport<K>,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  override toJSON(): Record<string, unknown> {
    const { report, ...rest } = super.toJSON();
    return { ...rest, totals: (report as BulkReport<K>).totals };
  }
}

/** Rejected by `upsertAll` when reading the input fails (the input threw). */
export class BulkInputError<K = Record<string, unknown>> extends BulkRunError<K> {}

/** Rejected by `upsertAll` when its `onRecord` callback throws. */
export class BulkCallbackError<K = Record<string, unknown>> extends BulkRunError<K> {}

/** The bulk engine's bookkeeping is broken (a bug, never a data or network problem). */
export class BulkAccountingError extends VbapiError {}
