// Fault injection: request-level faults (status, delay, connection reset, broken body) and
// record-level faults (fail or omit chosen records inside a 207).

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

/** A fault as listed by `faults.list()` and `GET /__admin/faults`. */
export interface FaultInfo {
  id: string;
  type: FaultSpec["type"];
  /** Firings left (`null` for unlimited). */
  remaining: number | null;
  /** How often it has fired so far. */
  fired: number;
  target: FaultTarget;
  /** The spec without its predicate. */
  spec: Omit<FaultSpec, "predicate">;
}

/** Returned by every fault-adding call. */
export interface FaultHandle {
  readonly id: string;
  /** Firings left (`Infinity` for unlimited). */
  readonly remaining: number;
  /** How often it has fired so far. */
  readonly fired: number;
  /** Removes the fault. */
  cancel(): void;
}

/** Programmatic fault injection. Everything here is also reachable through `/__admin/faults`. */
export interface FaultController {
  /** Adds any fault. */
  add(spec: FaultSpec): FaultHandle;
  /** Fails the next `count` matching requests with `status` (problem details; nothing applied). */
  failNext(
    count: number,
    status: number,
    options?: { retryAfter?: number | string; detail?: string; target?: FaultTarget },
  ): FaultHandle;
  /** Delays answers by `ms` (every matching request unless `count` is given). */
  delay(
    ms: number,
    options?: { count?: number; phase?: FaultPhase; target?: FaultTarget },
  ): FaultHandle;
  /** Resets the connection of the next `count` (default 1) matching requests. */
  resetConnection(options?: {
    phase?: FaultPhase;
    count?: number;
    target?: FaultTarget;
  }): FaultHandle;
  /** Answers the next `count` (default 1) matching requests with a broken body, after applying them. */
  badBody(
    kind: "truncated" | "non-json",
    options?: { count?: number; status?: number; target?: FaultTarget },
  ): FaultHandle;
  /** Fails chosen records inside 207 answers (not stored). */
  failRecords(options?: Omit<FailRecordsFault, "type">): FaultHandle;
  /** Leaves chosen (stored) records out of 207 answers. */
  omitRecords(options?: Omit<OmitRecordsFault, "type">): FaultHandle;
  /** Active faults. */
  list(): FaultInfo[];
  /** Removes one fault; false when there was none with that id. */
  remove(id: string): boolean;
  /** Removes every fault. */
  clear(): void;
}

/** What a request is, for fault matching. */
export interface RequestContext {
  path: string;
  template: string;
  entity: string;
  database: string;
}

interface ActiveFault {
  id: string;
  spec: FaultSpec;
  remaining: number;
  fired: number;
}

type RequestFaultType = "status" | "delay" | "reset-connection" | "bad-body";
type FaultOf<T extends FaultSpec["type"]> = Extract<FaultSpec, { type: T }>;

/** The decision for one record. */
export type RecordDecision =
  | undefined
  | { kind: "fail"; status: number; message: string; omit: boolean }
  | { kind: "omit" };

function matchesTarget(target: FaultTarget | undefined, ctx: RequestContext): boolean {
  if (!target) return true;
  if (target.path !== undefined && target.path !== ctx.path && target.path !== ctx.template) {
    return false;
  }
  if (target.entity !== undefined && target.entity !== ctx.entity) return false;
  if (target.database !== undefined && target.database !== ctx.database) return false;
  return true;
}

function matchesKeys(
  keys: readonly KeyMatch[],
  record: Readonly<Record<string, unknown>>,
): boolean {
  for (const match of keys) {
    let all = true;
    for (const field in match) {
      if (record[field] !== match[field]) {
        all = false;
        break;
      }
    }
    if (all) return true;
  }
  return false;
}

function checkCount(value: number | undefined, fallback: number): number {
  const count = value ?? fallback;
  if (!(count > 0)) throw new RangeError("fault count must be > 0");
  return count;
}

function checkStatus(status: unknown, name: string): void {
  if (!Number.isInteger(status) || (status as number) < 100 || (status as number) > 599) {
    throw new RangeError(`${name} must be an HTTP status (100-599)`);
  }
}

/** Checks a fault spec; throws a RangeError/TypeError naming what is wrong. */
export function checkFaultSpec(spec: FaultSpec): void {
  if (spec.target !== undefined && (spec.target === null || typeof spec.target !== "object")) {
    throw new TypeError("target must be an object");
  }
  switch (spec.type) {
    case "status":
      checkStatus(spec.status, "status");
      if (spec.retryAfter !== undefined && !["number", "string"].includes(typeof spec.retryAfter)) {
        throw new TypeError("retryAfter must be a number of seconds or an HTTP date");
      }
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
      if (spec.type === "fail-records" && spec.status !== undefined)
        checkStatus(spec.status, "status");
      if (spec.keys !== undefined && !Array.isArray(spec.keys))
        throw new TypeError("keys must be an array");
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
      throw new TypeError(`unknown fault type ${(spec as { type?: unknown }).type}`);
  }
  const phase = (spec as { phase?: unknown }).phase;
  if (phase !== undefined && phase !== "before-apply" && phase !== "after-apply") {
    throw new TypeError('phase must be "before-apply" or "after-apply"');
  }
}

/** The fault registry the server consults. */
export class FaultRegistry implements FaultController {
  private faults: ActiveFault[] = [];
  private nextId = 1;
  /** Total firings, for stats. */
  injected = 0;

  constructor(private readonly random: () => number = Math.random) {}

  add(spec: FaultSpec): FaultHandle {
    checkFaultSpec(spec);
    const unlimited =
      spec.type === "delay" || spec.type === "fail-records" || spec.type === "omit-records";
    const fault: ActiveFault = {
      id: `f${this.nextId++}`,
      spec: { ...spec },
      remaining: checkCount(spec.count, unlimited ? Number.POSITIVE_INFINITY : 1),
      fired: 0,
    };
    this.faults.push(fault);
    const registry = this;
    return {
      id: fault.id,
      get remaining() {
        return fault.remaining;
      },
      get fired() {
        return fault.fired;
      },
      cancel() {
        registry.remove(fault.id);
      },
    };
  }

  failNext(
    count: number,
    status: number,
    options: { retryAfter?: number | string; detail?: string; target?: FaultTarget } = {},
  ): FaultHandle {
    return this.add({ type: "status", status, count, ...options });
  }

  delay(
    ms: number,
    options: { count?: number; phase?: FaultPhase; target?: FaultTarget } = {},
  ): FaultHandle {
    return this.add({ type: "delay", ms, ...options });
  }

  resetConnection(
    options: { phase?: FaultPhase; count?: number; target?: FaultTarget } = {},
  ): FaultHandle {
    return this.add({ type: "reset-connection", ...options });
  }

  badBody(
    kind: "truncated" | "non-json",
    options: { count?: number; status?: number; target?: FaultTarget } = {},
  ): FaultHandle {
    return this.add({ type: "bad-body", body: kind, ...options });
  }

  failRecords(options: Omit<FailRecordsFault, "type"> = {}): FaultHandle {
    return this.add({ type: "fail-records", ...options });
  }

  omitRecords(options: Omit<OmitRecordsFault, "type"> = {}): FaultHandle {
    return this.add({ type: "omit-records", ...options });
  }

  list(): FaultInfo[] {
    return this.faults.map((f) => {
      const { predicate: _predicate, ...spec } = f.spec as FaultSpec & { predicate?: unknown };
      return {
        id: f.id,
        type: f.spec.type,
        remaining: Number.isFinite(f.remaining) ? f.remaining : null,
        fired: f.fired,
        target: f.spec.target ?? {},
        spec: spec as Omit<FaultSpec, "predicate">,
      };
    });
  }

  remove(id: string): boolean {
    const before = this.faults.length;
    this.faults = this.faults.filter((f) => f.id !== id);
    return this.faults.length !== before;
  }

  clear(): void {
    this.faults = [];
  }

  /** Whether any fault is registered (fast path for the common case). */
  get empty(): boolean {
    return this.faults.length === 0;
  }

  private consume(fault: ActiveFault): void {
    fault.fired++;
    this.injected++;
    fault.remaining--;
    if (fault.remaining <= 0) this.remove(fault.id);
  }

  /** Takes the first matching request-level fault of a type (and phase), if any. */
  take<T extends RequestFaultType>(
    type: T,
    ctx: RequestContext,
    phase?: FaultPhase,
  ): FaultOf<T> | undefined {
    for (const fault of this.faults) {
      if (fault.spec.type !== type || !matchesTarget(fault.spec.target, ctx)) continue;
      if (phase && ((fault.spec as { phase?: FaultPhase }).phase ?? "after-apply") !== phase) {
        continue;
      }
      this.consume(fault);
      return fault.spec as FaultOf<T>;
    }
    return undefined;
  }

  /** Whether record faults could apply to this request. */
  hasRecordFaults(ctx: RequestContext): boolean {
    for (const fault of this.faults) {
      if (
        (fault.spec.type === "fail-records" || fault.spec.type === "omit-records") &&
        matchesTarget(fault.spec.target, ctx)
      ) {
        return true;
      }
    }
    return false;
  }

  /** Decides what happens to one record. */
  decideRecord(
    ctx: RequestContext,
    record: Readonly<Record<string, unknown>>,
    index: number,
  ): RecordDecision {
    for (const fault of this.faults) {
      const spec = fault.spec;
      if (spec.type !== "fail-records" && spec.type !== "omit-records") continue;
      if (!matchesTarget(spec.target, ctx)) continue;
      const hasSelector =
        spec.keys !== undefined || spec.predicate !== undefined || spec.probability !== undefined;
      const chosen =
        !hasSelector ||
        (spec.keys !== undefined && matchesKeys(spec.keys, record)) ||
        spec.predicate?.(record, index) === true ||
        (spec.probability !== undefined && this.random() < spec.probability);
      if (!chosen) continue;
      this.consume(fault);
      if (spec.type === "omit-records") return { kind: "omit" };
      const status = spec.status ?? 500;
      return {
        kind: "fail",
        status,
        message: spec.message ?? `Injected failure (status ${status})`,
        omit: spec.omit === true,
      };
    }
    return undefined;
  }
}
