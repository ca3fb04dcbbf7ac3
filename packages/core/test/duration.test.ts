import { describe, expect, it } from "vitest";
import { formatDuration } from "../src/duration.ts";

describe("formatDuration", () => {
  it("writes seconds, minutes and seconds, or hours and minutes", () => {
    expect(formatDuration(0)).toBe("0s");
    expect(formatDuration(45)).toBe("45s");
    expect(formatDuration(75)).toBe("1m15s");
    expect(formatDuration(3725)).toBe("1h02m");
    expect(formatDuration(90_061)).toBe("25h01m");
  });

  it("rounds once, before splitting, so the carry reaches the next unit", () => {
    expect(formatDuration(59.4)).toBe("59s");
    expect(formatDuration(59.5)).toBe("1m00s");
    expect(formatDuration(119.5)).toBe("2m00s"); // telemetry's copy wrote 1m60s
    expect(formatDuration(3599.4)).toBe("59m59s");
    expect(formatDuration(3599.5)).toBe("1h00m");
    expect(formatDuration(7199.5)).toBe("2h00m");
  });

  it("to the minute, as the review's wallclocks: always hours and minutes", () => {
    expect(formatDuration(11_220, "minute")).toBe("3h 07m");
    expect(formatDuration(46_740, "minute")).toBe("12h 59m");
    expect(formatDuration(29, "minute")).toBe("0h 00m");
    expect(formatDuration(3570, "minute")).toBe("1h 00m"); // 59.5 min: the web copy wrote 0h 60m
    expect(formatDuration(3599, "minute")).toBe("1h 00m");
    expect(formatDuration(7170, "minute")).toBe("2h 00m");
  });

  it("is ? for a duration not known yet", () => {
    expect(formatDuration(Number.NaN)).toBe("?");
    expect(formatDuration(Number.POSITIVE_INFINITY)).toBe("?");
    expect(formatDuration(-1)).toBe("?");
    expect(formatDuration(Number.NaN, "minute")).toBe("?");
  });
});
