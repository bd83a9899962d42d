// Small statistics and formatting helpers shared by every benchmark.

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] as number;
}

export const median = (values: readonly number[]): number => percentile(values, 50);
export const p95 = (values: readonly number[]): number => percentile(values, 95);

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
  ms: (x: number) => (x >= 100 ? `${x.toFixed(0)} ms` : `${x.toFixed(2)} ms`),
  s: (ms: number) => `${(ms / 1000).toFixed(2)} s`,
  us: (x: number) => `${x.toFixed(1)} µs`,
  int: (x: number) => Math.round(x).toLocaleString("en-US"),
  rate: (x: number) => `${Math.round(x).toLocaleString("en-US")}/s`,
  mb: (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`,
};
