import { describe, expect, it } from "vitest";
import {
  backoffDelay,
  DEFAULT_BACKOFF,
  parseRetryAfter,
  retryDelay,
  shouldRetryRecord,
  shouldRetryStatus,
} from "../src/base/retry.ts";

describe("parseRetryAfter", () => {
  const now = Date.parse("2026-11-22T10:00:00Z");
  it("reads delay-seconds", () => {
    expect(parseRetryAfter("0", now)).toBe(0);
    expect(parseRetryAfter("3", now)).toBe(3000);
    expect(parseRetryAfter(" 120 ", now)).toBe(120_000);
    expect(parseRetryAfter("1.5", now)).toBe(1500);
  });
  it("reads an HTTP date relative to now", () => {
    expect(parseRetryAfter("Sun, 22 Nov 2026 10:00:05 GMT", now)).toBe(5000);
    expect(parseRetryAfter("Sun, 22 Nov 2026 09:59:00 GMT", now)).toBe(0);
  });
  it("ignores absent and garbage values", () => {
    expect(parseRetryAfter(null, now)).toBeUndefined();
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
    expect(parseRetryAfter("", now)).toBeUndefined();
    expect(parseRetryAfter("soon", now)).toBeUndefined();
    expect(parseRetryAfter("-5", now)).toBeUndefined();
  });
});

describe("backoff", () => {
  const opts = { initialDelayMs: 100, maxDelayMs: 1000, maxRetryAfterMs: 5000 };
  it("doubles per retry and caps", () => {
    const none = () => 0;
    expect([0, 1, 2, 3, 4, 10].map((r) => backoffDelay(r, opts, none))).toEqual([
      100, 200, 400, 800, 1000, 1000,
    ]);
  });
  it("jitters down by at most a quarter", () => {
    expect(backoffDelay(2, opts, () => 0.999_999)).toBe(300);
    for (let i = 0; i < 200; i++) {
      const d = backoffDelay(1, opts);
      expect(d).toBeGreaterThanOrEqual(150);
      expect(d).toBeLessThanOrEqual(200);
    }
  });
  it("prefers Retry-After, capped", () => {
    expect(retryDelay(0, 2000, opts)).toBe(2000);
    expect(retryDelay(0, 60_000, opts)).toBe(5000);
    expect(retryDelay(0, 0, opts)).toBe(0);
    expect(retryDelay(3, undefined, opts, () => 0)).toBe(800);
  });
  it("has sane defaults", () => {
    expect(DEFAULT_BACKOFF).toEqual({
      initialDelayMs: 500,
      maxDelayMs: 8000,
      maxRetryAfterMs: 60_000,
    });
  });
});

describe("the retry policy", () => {
  it("retries a request after 408, 429, 500, 502, 503, 504 only", () => {
    const retryable = [];
    for (let s = 200; s < 600; s++) if (shouldRetryStatus(s)) retryable.push(s);
    expect(retryable).toEqual([408, 429, 500, 502, 503, 504]);
  });
  it("re-sends a record after those, any 5xx, or no report at all (0)", () => {
    const retryable = [0];
    for (let s = 200; s < 600; s++) if (shouldRetryRecord(s)) retryable.push(s);
    expect(retryable.filter((s) => s < 500)).toEqual([0, 408, 429]);
    expect(retryable.filter((s) => s >= 500)).toHaveLength(100);
    expect(shouldRetryRecord(400)).toBe(false);
    expect(shouldRetryRecord(201)).toBe(false);
  });
});
