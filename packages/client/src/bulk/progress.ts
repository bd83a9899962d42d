/** Throttled progress reporting. */
import type { BulkProgress } from "../base/types.ts";

export const DEFAULT_PROGRESS_INTERVAL_MS = 200;

/**
 * Calls `onProgress` at most once per `intervalMs` (leading edge), plus a final call when
 * `flush` is called. Errors thrown by the callback are swallowed: a progress display must not
 * break a load.
 */
export class ProgressThrottle {
  private last = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly onProgress: ((progress: BulkProgress) => void) | undefined,
    private readonly intervalMs: number,
    private readonly snapshot: () => BulkProgress,
  ) {}

  tick(now: number): void {
    if (this.onProgress === undefined || now - this.last < this.intervalMs) return;
    this.last = now;
    this.emit();
  }

  flush(): void {
    if (this.onProgress === undefined) return;
    this.emit();
  }

  private emit(): void {
    try {
      this.onProgress?.(this.snapshot());
    } catch {
      // Ignored on purpose; see the class comment.
    }
  }
}
