// Fault definitions (what a test may ask the server to do wrong) and their checks. A fault
// that could not be served is refused here, when it is added, not when it would fire.
import { validateHeaderValue } from "node:http";
/** Which requests a fault applies to. Every given field must match; an empty target matches all. */
export interface FaultTarget {
  /** A concrete request path (`/tolerances-batch`) or a spec path template (`/provider-credentialing/{providerCredKey}/services-batch`). */
  path?: string;
  /** An entity name as in the spec (`Tolerance`, `ProviderCredService`, ...). */
  entity?: string;
  /** A `vbasoftware-database` value. */
  database?: string;
}

/** Partial key match: a record matches when every given field equals the record's field. */
export type KeyMatch = Record<string, unknown>;

/** Chooses records programmatically: the record as sent and its index in the batch. */
export type RecordPredicate = (record: Readonly<Record<string, unknown>>, index: number) => boolean;

/** When in the request's life a fault strikes. */
export type FaultPhase = "before-apply" | "after-apply";

interface FaultBase {
  /** Which requests it applies to (default: all batch requests). */
  target?: FaultTarget;
  /**
   * How many times it fires before it is used up. Request faults count matching requests
   * (default 1, `delay` default unlimited); record faults count records (default unlimited).
   */
  count?: number;
}

/** Answer the request with `status` (problem details body) without applying anything. */
export interface StatusFault extends FaultBase {
  type: "status";
  status: number;
  /** `Retry-After` header value: seconds, or an HTTP date string. Omitted when not given. */
  retryAfter?: number | string;
  /** Problem details `detail` text. */
  detail?: string;
}

/** Hold the answer back for `ms` milliseconds. */
export interface DelayFault extends FaultBase {
  type: "delay";
  ms: number;
  /** `after-apply` (default): records are stored, then the answer waits. `before-apply`: the wait comes first. */
  phase?: FaultPhase;
}

/** Destroy the socket without answering. */
export interface ResetConnectionFault extends FaultBase {
  type: "reset-connection";
  /**
   * `after-apply` (default): the body was read and the records APPLIED, then the connection is
   * reset: the ambiguous failure a client must handle by re-sending (upserts are idempotent).
   * `before-apply`: reset after reading the body, nothing stored.
   */
  phase?: FaultPhase;
}

/** Apply the records, then answer `status` (default 207) with a broken body. */
export interface BadBodyFault extends FaultBase {
  type: "bad-body";
  /** `truncated`: the first half of the real JSON answer. `non-json`: an HTML error page. */
  body: "truncated" | "non-json";
  status?: number;
}

interface RecordSelector {
  /** Records whose key fields match any of these. */
  keys?: KeyMatch[];
  /** Records for which this returns true (programmatic API only). */
  predicate?: RecordPredicate;
  /** Each record is chosen with this probability (0..1). */
  probability?: number;
}

/**
 * Fail chosen records inside a 207: they are NOT stored, and their `data` entry carries
 * `status` (default 500) and `message`. With `omit: true` they are also left out of `data`.
 * With no selector every record is chosen.
 */
export interface FailRecordsFault extends FaultBase, RecordSelector {
  type: "fail-records";
  status?: number;
  message?: string;
  omit?: boolean;
}

/** Leave chosen records out of the 207 `data` although they WERE stored. */
export interface OmitRecordsFault extends FaultBase, RecordSelector {
  type: "omit-records";
}

/** Any fault. */
export type FaultSpec =
  | StatusFault
  | DelayFault
  | ResetConnectionFault
  | BadBodyFault
  | FailRecordsFault
  | OmitRecordsFault;

/** The fault's `count`, or `fallback`; throws unless it is a whole number > 0 (or Infinity). */
export function checkCount(value: number | undefined, fallback: number): number {
  const count = value ?? fallback;
  if (
    typeof count !== "number" ||
    !(count > 0) ||
    !(Number.isInteger(count) || count === Infinity)
  ) {
    throw new RangeError("count must be a whole number > 0");
  }
  return count;
}

/** Statuses a fault may use: ones the server can put on the wire as a final answer. */
function checkStatus(status: unknown, name: string): void {
  if (!Number.isInteger(status) || (status as number) < 200 || (status as number) > 599) {
    throw new RangeError(`${name} must be an HTTP status between 200 and 599`);
  }
}

function checkOptionalString(value: unknown, name: string): void {
  if (value !== undefined && typeof value !== "string")
    throw new TypeError(`${name} must be a string`);
}

/** Retry-After: seconds (a number >= 0) or a text that is a legal header value (no CR/LF). */
function checkRetryAfter(value: unknown): void {
  if (value === undefined) return;
  if (typeof value === "number") {
    if (!(Number.isFinite(value) && value >= 0)) {
      throw new RangeError("retryAfter must be a number of seconds >= 0 or an HTTP date");
    }
    return;
  }
  if (typeof value !== "string" || value.trim() === "") {
    throw new TypeError("retryAfter must be a number of seconds >= 0 or an HTTP date");
  }
  try {
    validateHeaderValue("retry-after", value);
  } catch {
    throw new TypeError(
      "retryAfter must be a legal header value (no CR, LF or control characters)",
    );
  }
}

function checkTarget(target: unknown): void {
  if (target === undefined) return;
  if (target === null || typeof target !== "object" || Array.isArray(target)) {
    throw new TypeError("target must be an object");
  }
  for (const field of ["path", "entity", "database"] as const) {
    checkOptionalString((target as FaultTarget)[field], `target.${field}`);
  }
}

/** Checks a fault spec; throws a RangeError/TypeError naming the field that is wrong. */
export function checkFaultSpec(spec: FaultSpec): void {
  checkTarget(spec.target);
  if (spec.count !== undefined) checkCount(spec.count, 1);
  switch (spec.type) {
    case "status":
      checkStatus(spec.status, "status");
      checkRetryAfter(spec.retryAfter);
      checkOptionalString(spec.detail, "detail");
      break;
    case "delay":
      if (!(typeof spec.ms === "number" && spec.ms >= 0 && spec.ms <= 600_000)) {
        throw new RangeError("ms must be between 0 and 600000");
      }
      break;
    case "reset-connection":
      break;
    case "bad-body":
      if (spec.body !== "truncated" && spec.body !== "non-json") {
        throw new TypeError('body must be "truncated" or "non-json"');
      }
      if (spec.status !== undefined) checkStatus(spec.status, "status");
      break;
    case "fail-records":
    case "omit-records":
      if (spec.type === "fail-records") {
        if (spec.status !== undefined) checkStatus(spec.status, "status");
        checkOptionalString(spec.message, "message");
      }
      if (
        spec.keys !== undefined &&
        (!Array.isArray(spec.keys) || spec.keys.some((k) => k === null || typeof k !== "object"))
      ) {
        throw new TypeError("keys must be an array of objects");
      }
      if (
        spec.probability !== undefined &&
        !(typeof spec.probability === "number" && spec.probability >= 0 && spec.probability <= 1)
      ) {
        throw new RangeError("probability must be between 0 and 1");
      }
      if (spec.predicate !== undefined && typeof spec.predicate !== "function") {
        throw new TypeError("predicate must be a function");
      }
      break;
    default:
      throw new TypeError(
        'type must be one of "status", "delay", "reset-connection", "bad-body", "fail-records", "omit-records"',
      );
  }
  const phase = (spec as { phase?: unknown }).phase;
  if (phase !== undefined && phase !== "before-apply" && phase !== "after-apply") {
    throw new TypeError('phase must be "before-apply" or "after-apply"');
  }
}
