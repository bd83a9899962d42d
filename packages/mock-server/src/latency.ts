// Simulated network and server latency: every API answer leaves no earlier than
// `fixedMs + jitterMs * random()` after its request arrived. Timers only; nothing blocks.

/** Latency settings. Both default to 0. */
export interface LatencyOptions {
  /** Milliseconds every API answer is held back (from the request's arrival). */
  fixedMs?: number;
  /** Up to this many milliseconds more, uniformly at random per request. */
  jitterMs?: number;
}

const MAX_MS = 600_000;

/** The current latency settings; `false` when off. */
export class Latency {
  private fixedMs = 0;
  private jitterMs = 0;

  constructor(
    options: LatencyOptions | false | undefined,
    private readonly random: () => number,
  ) {
    this.configure(options);
  }

  /** Changes the settings; throws a TypeError/RangeError naming the field that is wrong. */
  configure(options: LatencyOptions | false | undefined): void {
    if (options === false || options === undefined) {
      this.fixedMs = 0;
      this.jitterMs = 0;
      return;
    }
    if (options === null || typeof options !== "object" || Array.isArray(options)) {
      throw new TypeError("latency must be { fixedMs, jitterMs } or false");
    }
    for (const name of Object.keys(options)) {
      if (name !== "fixedMs" && name !== "jitterMs") {
        throw new TypeError(`unknown latency option ${name}; use fixedMs and jitterMs`);
      }
    }
    const check = (name: string, value: unknown): number => {
      if (value === undefined) return 0;
      if (typeof value !== "number" || !(value >= 0 && value <= MAX_MS)) {
        throw new RangeError(
          `latency ${name} must be a number of milliseconds from 0 to ${MAX_MS}`,
        );
      }
      return value;
    };
    const fixedMs = check("fixedMs", options.fixedMs);
    const jitterMs = check("jitterMs", options.jitterMs);
    this.fixedMs = fixedMs;
    this.jitterMs = jitterMs;
  }

  /** Current settings, or false when both are 0. */
  get settings(): Required<LatencyOptions> | false {
    return this.fixedMs === 0 && this.jitterMs === 0
      ? false
      : { fixedMs: this.fixedMs, jitterMs: this.jitterMs };
  }

  /** How long one answer is held back (0 when off). */
  sample(): number {
    if (this.jitterMs === 0) return this.fixedMs;
    return this.fixedMs + this.jitterMs * this.random();
  }
}
