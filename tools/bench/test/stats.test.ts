// The statistics behind every PASS/MISS verdict: confidence intervals, block statistics and the
// rate limit's minimum. (The benchmarks themselves run in CI as `pnpm bench --quick`.)
import { describe, expect, test } from "vitest";
import {
  blockStats,
  blocks,
  meanCI,
  median,
  p95,
  stddev,
  t975,
  tokenBucketMinimumMs,
} from "../src/stats.ts";

describe("meanCI", () => {
  test("95 % interval from Student's t with n - 1 degrees of freedom", () => {
    const ci = meanCI([1, 2, 3, 4, 5]);
    // mean 3, s = sqrt(2.5), t(4) = 2.776: half width 2.776 * 1.5811 / sqrt(5) = 1.9630
    expect(ci.mean).toBe(3);
    expect(ci.low).toBeCloseTo(1.037, 3);
    expect(ci.high).toBeCloseTo(4.963, 3);
    expect(ci.n).toBe(5);
  });

  test("identical values give a zero-width interval", () => {
    expect(meanCI([1.05, 1.05, 1.05])).toEqual({ mean: 1.05, low: 1.05, high: 1.05, n: 3 });
  });

  test("a single value can never satisfy an upper-bound target", () => {
    const ci = meanCI([0.5]);
    expect(ci.high).toBe(Number.POSITIVE_INFINITY);
    expect(ci.high <= 1.1).toBe(false);
  });

  test("wider with more spread, narrower with more blocks", () => {
    const spread = [0.8, 1.2, 0.9, 1.1, 1.0];
    const tight = meanCI([1.0, 1.02, 0.98, 1.01, 0.99]);
    const loose = meanCI(spread);
    expect(loose.high - loose.low).toBeGreaterThan(tight.high - tight.low);
    const many = meanCI(Array.from({ length: 40 }, (_, i) => spread[i % 5] as number));
    expect(many.high - many.low).toBeLessThan(loose.high - loose.low);
  });

  test("t quantiles: tabled, between table rows (conservative) and large df", () => {
    expect(t975(1)).toBe(12.706);
    expect(t975(9)).toBe(2.262);
    expect(t975(45)).toBe(2.021);
    expect(t975(10_000)).toBe(1.98);
    expect(t975(0)).toBeNaN();
  });
});

describe("blocks", () => {
  test("consecutive blocks; a short last block is dropped", () => {
    expect(blocks([1, 2, 3, 4, 5, 6, 7], 3)).toEqual([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    expect(blockStats([1, 2, 3, 4, 5, 6, 7], 3)).toEqual([2, 5]);
    expect(blockStats([5, 1, 9, 2, 8, 3], 3, median)).toEqual([5, 3]);
    expect(() => blocks([1], 0)).toThrow(/block size/);
  });
});

describe("percentiles", () => {
  test("nearest rank", () => {
    const xs = Array.from({ length: 100 }, (_, i) => 100 - i);
    expect(median(xs)).toBe(50);
    expect(p95(xs)).toBe(95);
    expect(stddev([2, 4, 4, 4, 5, 5, 7, 9])).toBeCloseTo(2.138, 3);
  });
});

describe("tokenBucketMinimumMs", () => {
  test("the burst goes at once, the rest at the rate, then one round trip", () => {
    // 20,000 events in chunks of 100 at 25/s, burst 50, 150 ms latency: (200 - 50) / 25 s + 0.15 s
    expect(tokenBucketMinimumMs(200, 25, 50, 150)).toBe(6150);
    expect(tokenBucketMinimumMs(40, 25, 50, 300)).toBe(300); // within the burst: one round trip
    expect(tokenBucketMinimumMs(51, 25, 50)).toBe(40);
    expect(tokenBucketMinimumMs(0, 25, 50, 150)).toBe(0);
    expect(() => tokenBucketMinimumMs(10, 0, 50)).toThrow(RangeError);
  });
});
