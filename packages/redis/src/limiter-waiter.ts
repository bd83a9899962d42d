// One caller of the Redis rate limiter's acquire(), from the call until it is settled, and the
// clock its times are read on. The limiter (rate-limiter.ts) creates, routes and settles waiters;
// while one waits it is in exactly one place, named by its phase: the Redis queue
// (limiter-queue.ts: "queued", "reserved", "confirming") or the local fallback bucket
// (limiter-fallback.ts: "local").

export type Phase = "queued" | "reserved" | "confirming" | "local" | "done";

export interface Waiter {
  resolve: () => void;
  reject: (reason: unknown) => void;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
  phase: Phase;
  timer: ReturnType<typeof setTimeout> | undefined;
  /** The pause sequence a reservation was made under. */
  seq: number;
  /** When a reservation falls due (performance.now() ms). */
  dueAt: number;
}

/** The limiter's clock: monotonic milliseconds (performance.now()). */
export const now = () => performance.now();
