// One small error hierarchy. Errors never hold request bodies, headers, the API key or the token:
// they carry only the safe fields below, and toJSON()/inspect show nothing else.
import type { ValidationIssue } from "../generated/validators.js";

export type { ValidationIssue };

const inspectSymbol = Symbol.for("nodejs.util.inspect.custom");

export class VbapiError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    // Make name non-enumerable like Error's own, so it is not duplicated by inspect.
    Object.defineProperty(this, "name", {
      enumerable: false,
      value: new.target.name,
      writable: true,
    });
  }

  /** The fields safe to log or serialise. */
  toJSON(): Record<string, unknown> {
    const out: Record<string, unknown> = { name: this.name, message: this.message };
    for (const [key, value] of Object.entries(this)) {
      if (key !== "cause") out[key] = value;
    }
    return out;
  }

  [inspectSymbol](): string {
    const { name, message, ...rest } = this.toJSON();
    const fields = Object.keys(rest).length > 0 ? ` ${JSON.stringify(rest)}` : "";
    return `${String(name)}: ${String(message)}${fields}\n${(this.stack ?? "").split("\n").slice(1).join("\n")}`;
  }
}

/** The client is missing something it needs (API key, token, database) or an option is invalid. */
export class ConfigurationError extends VbapiError {}

export interface ApiErrorFields {
  status: number;
  type?: string | undefined;
  title?: string | undefined;
  detail?: string | undefined;
  instance?: string | undefined;
  activityId?: string | undefined;
  /** Milliseconds the server asked to wait (Retry-After), when it said. */
  retryAfterMs?: number | undefined;
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

  constructor(message: string, fields: ApiErrorFields) {
    super(message);
    this.status = fields.status;
    this.type = fields.type;
    this.title = fields.title;
    this.detail = fields.detail;
    this.instance = fields.instance;
    this.activityId = fields.activityId;
    this.retryAfterMs = fields.retryAfterMs;
  }

  /** The ApiError subclass for a status. */
  static from(fields: ApiErrorFields, operation: string): ApiError {
    const summary = [fields.title, fields.detail].filter(Boolean).join(": ");
    const message = `${operation} failed with HTTP ${fields.status}${summary ? ` (${summary})` : ""}${
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

export class BadRequestError extends ApiError {}
export class AuthenticationError extends ApiError {}
/** 403. VBA also answers 403 to a request without a User-Agent header. */
export class PermissionDeniedError extends ApiError {}
export class RateLimitError extends ApiError {}
export class InternalServerError extends ApiError {}

/** No usable answer arrived: the connection failed. */
export class ConnectionError extends VbapiError {
  /** True when the request may have reached the server (so its records may have been applied). */
  readonly mayHaveBeenApplied: boolean;
  /** A short, safe description of the low-level cause (e.g. an errno code). */
  readonly code: string | undefined;

  constructor(
    message: string,
    options: { mayHaveBeenApplied: boolean; code?: string | undefined },
  ) {
    super(message);
    this.mayHaveBeenApplied = options.mayHaveBeenApplied;
    this.code = options.code;
  }
}

/** An attempt took longer than `timeoutMs` (and retries, if any, were used up). */
export class TimeoutError extends VbapiError {
  readonly mayHaveBeenApplied: boolean;
  readonly timeoutMs: number;

  constructor(message: string, options: { mayHaveBeenApplied: boolean; timeoutMs: number }) {
    super(message);
    this.mayHaveBeenApplied = options.mayHaveBeenApplied;
    this.timeoutMs = options.timeoutMs;
  }
}

/** The caller's AbortSignal fired. */
export class AbortError extends VbapiError {
  readonly mayHaveBeenApplied: boolean;

  constructor(message: string, options: { mayHaveBeenApplied: boolean }) {
    super(message);
    this.mayHaveBeenApplied = options.mayHaveBeenApplied;
  }
}

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

/** A 2xx answer whose body is not JSON or not the expected shape. */
export class ResponseParseError extends VbapiError {
  readonly status: number;
  readonly activityId: string | undefined;

  constructor(message: string, options: { status: number; activityId?: string | undefined }) {
    super(message);
    this.status = options.status;
    this.activityId = options.activityId;
  }
}
