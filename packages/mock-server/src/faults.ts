// The fault registry: request-level faults (status, delay, connection reset, broken body) and
// record-level faults (fail or omit chosen records inside a 207), taken as requests pass.
import {
  checkCount,
  checkFaultSpec,
  type FailRecordsFault,
  type FaultPhase,
  type FaultSpec,
  type FaultTarget,
  type KeyMatch,
  type OmitRecordsFault,
} from "./fault-spec.ts";

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
