// Small statistics and formatting helpers shared by every benchmark.

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] as number;
}

export const median = (values: readonly number[]): number => percentile(values, 50);
export const p95 = (values: readonly number[]): number => percentile(values, 95);

export function mean(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  let sum = 0;
  for (const v of values) sum += v;
  return sum / values.length;
}

/** Sample standard deviation (n - 1); NaN for fewer than two values. */
export function stddev(values: readonly number[]): number {
  if (values.length < 2) return Number.NaN;
  const m = mean(values);
  let sum = 0;
  for (const v of values) sum += (v - m) ** 2;
  return Math.sqrt(sum / (values.length - 1));
}

// Two-sided 95 % quantiles of Student's t distribution (t_{0.975, df}), df 1..30, then a few
// larger df; between tabled df the next smaller df is used (slightly wider, never narrower).
const T975: readonly number[] = [
  12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145,
  2.131, 2.12, 2.11, 2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048,
  2.045, 2.042,
];
const T975_LARGE: readonly [number, number][] = [
  [120, 1.98],
  [60, 2.0],
  [40, 2.021],
  [30, 2.042],
];

/** t_{0.975} for `df` degrees of freedom (the 95 % two-sided critical value). */
export function t975(df: number): number {
  if (!(df >= 1)) return Number.NaN;
  if (df <= 30) return T975[Math.floor(df) - 1] as number;
  for (const [d, t] of T975_LARGE) if (df >= d) return t;
  return 2.042;
}

export interface Interval {
  /** Mean of the values. */
  mean: number;
  /** Lower and upper bound of the 95 % confidence interval of the mean. */
  low: number;
  high: number;
  /** Number of values (blocks, rounds). */
  n: number;
}

/**
 * The mean of `values` with its 95 % confidence interval (Student's t; the values are taken as
 * independent, e.g. block means). Fewer than two values give an infinitely wide interval, so a
 * verdict that needs the upper bound can never pass on one sample.
 */
export function meanCI(values: readonly number[]): Interval {
  const m = mean(values);
  if (values.length < 2)
    return {
      mean: m,
      low: Number.NEGATIVE_INFINITY,
      high: Number.POSITIVE_INFINITY,
      n: values.length,
    };
  const half = (t975(values.length - 1) * stddev(values)) / Math.sqrt(values.length);
  return { mean: m, low: m - half, high: m + half, n: values.length };
}

/** Splits `values` into consecutive blocks of `size` (a short last block is dropped). */
export function blocks<T>(values: readonly T[], size: number): T[][] {
  if (!(size >= 1)) throw new RangeError(`block size must be >= 1 (got ${size})`);
  const out: T[][] = [];
  for (let i = 0; i + size <= values.length; i += size) out.push(values.slice(i, i + size));
  return out;
}

/** One statistic (mean by default) per block of `size` consecutive values. */
export function blockStats(
  values: readonly number[],
  size: number,
  stat: (block: readonly number[]) => number = mean,
): number[] {
  return blocks(values, size).map(stat);
}

/**
 * The least time in ms from the first request to the last answer for `requests` requests
 * through a token bucket that starts full with `burst` tokens and refills continuously at
 * `requestsPerSecond` (the reference server's bucket, one token per request): the first `burst`
 * go at once, request burst + j no earlier than j / rate s; the last answer then takes at least
 * `latencyMs`.
 */
export function tokenBucketMinimumMs(
  requests: number,
  requestsPerSecond: number,
  burst: number,
  latencyMs = 0,
): number {
  if (!(requests >= 0) || !(requestsPerSecond > 0) || !(burst >= 1))
    throw new RangeError(
      "tokenBucketMinimumMs needs requests >= 0, requestsPerSecond > 0, burst >= 1",
    );
  if (requests === 0) return 0;
  return (Math.max(0, requests - Math.floor(burst)) / requestsPerSecond) * 1000 + latencyMs;
}

/** Rounds to `digits` significant decimals, for the JSON file. */
export function round(value: number, digits = 3): number {
  if (!Number.isFinite(value)) return value;
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** Client CPU time (user + system) in milliseconds since `since` (a process.cpuUsage() value). */
export function cpuMs(since: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(since);
  return (d.user + d.system) / 1000;
}

export const fmt = {
  ratio: (x: number) => (Number.isFinite(x) ? `${x.toFixed(2)}x` : "n/a"),
  /** A ratio with its 95 % confidence interval: "1.04x [1.01, 1.07]". */
  ci: (i: Interval) =>
    `${fmt.ratio(i.mean)} [${Number.isFinite(i.low) ? i.low.toFixed(2) : "-inf"}, ${Number.isFinite(i.high) ? i.high.toFixed(2) : "inf"}]`,
  ms: (x: number) => (x >= 100 ? `${x.toFixed(0)} ms` : `${x.toFixed(2)} ms`),
  s: (ms: number) => `${(ms / 1000).toFixed(2)} s`,
  us: (x: number) => `${x.toFixed(1)} µs`,
  int: (x: number) => Math.round(x).toLocaleString("en-US"),
  rate: (x: number) => `${Math.round(x).toLocaleString("en-US")}/s`,
  mb: (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`,
};
