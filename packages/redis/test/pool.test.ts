import { describe, expect, it } from "vitest";
import { maxExcess } from "./helpers.ts";

describe("maxExcess (the checker the bucket tests rely on)", () => {
  it("is <= 0 for grants a bucket allows and positive for any window over burst + rate*t", () => {
    // burst 2 at 10/s: two at once, then one every 100 ms.
    expect(maxExcess([0, 0, 100, 200, 300], 10, 2)).toBeLessThanOrEqual(0);
    expect(maxExcess([0, 0, 0], 10, 2)).toBeCloseTo(1);
    // A late window too tight: 3 permits within 50 ms after the bucket drained.
    expect(maxExcess([0, 0, 100, 200, 210, 220], 10, 2)).toBeGreaterThan(0);
    expect(maxExcess([300, 0, 200, 100, 0], 10, 2)).toBeLessThanOrEqual(0);
  });
});
