import { describe, expect, it } from "vitest";
import { backoffDelayMs, retryAfterMs } from "../src/backoff.ts";

const opts = { baseMs: 100, maxMs: 1_000 };

describe("backoffDelayMs", () => {
  it("doubles the ceiling per attempt up to the cap, jittered within its upper half", () => {
    expect([0, 1, 2, 3, 4, 10].map((a) => backoffDelayMs(a, opts, undefined, () => 1))).toEqual([100, 200, 400, 800, 1_000, 1_000]);
    expect([0, 1, 2, 3, 4, 10].map((a) => backoffDelayMs(a, opts, undefined, () => 0))).toEqual([50, 100, 200, 400, 500, 500]);
    for (let i = 0; i < 200; i++) {
      const d = backoffDelayMs(2, opts);
      expect(d).toBeGreaterThanOrEqual(200);
      expect(d).toBeLessThanOrEqual(400);
    }
  });

  it("waits at least what the server's Retry-After asks", () => {
    expect(backoffDelayMs(0, opts, 5_000, () => 1)).toBe(5_000);
    expect(backoffDelayMs(3, opts, 10, () => 1)).toBe(800);
  });
});

describe("retryAfterMs", () => {
  it("reads seconds or an HTTP date", () => {
    expect(retryAfterMs("2")).toBe(2_000);
    expect(retryAfterMs("0.5")).toBe(500);
    const now = Date.parse("Tue, 01 Dec 2026 14:00:00 GMT");
    expect(retryAfterMs("Tue, 01 Dec 2026 14:00:30 GMT", now)).toBe(30_000);
    expect(retryAfterMs("Tue, 01 Dec 2026 13:00:00 GMT", now)).toBe(0);
  });

  it("is undefined when absent or unreadable", () => {
    expect(retryAfterMs(null)).toBeUndefined();
    expect(retryAfterMs("")).toBeUndefined();
    expect(retryAfterMs("soon")).toBeUndefined();
  });
});
