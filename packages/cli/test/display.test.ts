// The progress line and the counts the CLI prints: one vocabulary, singular and plural.
import { describe, expect, it } from "vitest";
import { count } from "../src/count.ts";
import { type Counters, progressLine } from "../src/display.ts";

const counters = (c: Partial<Counters>): Counters => ({
  read: 0,
  skipped: 0,
  sent: 0,
  succeeded: 0,
  failed: 0,
  invalid: 0,
  inFlight: 0,
  requests: 0,
  retries: 0,
  bytesRead: 0,
  bytesTotal: undefined,
  elapsedMs: 0,
  ...c,
});

describe("progressLine", () => {
  it("counts failed and invalid rows apart, as the report does", () => {
    expect(progressLine(counters({ read: 5, sent: 1, failed: 1, invalid: 4 }))).toBe(
      "5 rows read, 1 sent, 0 succeeded, 1 failed, 4 invalid, 0 rows/s",
    );
  });

  it("says 1 row, and thousands with separators", () => {
    expect(progressLine(counters({ read: 1, sent: 1, succeeded: 1, elapsedMs: 1000 }))).toBe(
      "1 row read, 1 sent, 1 succeeded, 0 failed, 0 invalid, 1 rows/s",
    );
    expect(progressLine(counters({ read: 12_345, skipped: 1 }))).toMatch(
      /^12,345 rows read, 1 already done, /,
    );
  });
});

describe("count", () => {
  it("singular for one, plural otherwise (zero too), with separators", () => {
    expect(count(1, "row")).toBe("1 row");
    expect(count(0, "row")).toBe("0 rows");
    expect(count(2, "request")).toBe("2 requests");
    expect(count(1, "retry", "retries")).toBe("1 retry");
    expect(count(3, "retry", "retries")).toBe("3 retries");
    expect(count(1, "repeated key")).toBe("1 repeated key");
    expect(count(1234, "repeated key")).toBe("1,234 repeated keys");
  });
});
