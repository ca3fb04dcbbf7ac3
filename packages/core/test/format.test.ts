import { describe, expect, it } from "vitest";
import { formatFigure, type Unit } from "../src/index.ts";

const fmt = (value: number, unit: Unit, decimals?: number) => formatFigure({ value, unit }, decimals === undefined ? {} : { decimals });

describe("formatFigure", () => {
  it("formats parameter counts as the published page does", () => {
    expect(fmt(15_706_484_224, "params")).toBe("15.71 B");
    expect(fmt(861_900_000, "params")).toBe("861.9 M");
    expect(fmt(8_650_752, "params")).toBe("8.7 M");
    expect(fmt(449_839_104, "params")).toBe("449.8 M");
    expect(fmt(3_108_007_424, "params")).toBe("3.11 B");
    expect(fmt(671_026_419_200, "params")).toBe("671.03 B");
    expect(fmt(1.2e12, "params")).toBe("1.20 T");
    expect(fmt(2048, "params")).toBe("2.0 K");
    expect(fmt(512, "params")).toBe("512");
  });
  it("the exact DeepSeek-V2-Lite backbone reads 861.8 M (the published page shows 861.9 M)", () => {
    expect(fmt(861_793_792, "params")).toBe("861.8 M");
  });
  it("formats throughput figures", () => {
    expect(fmt(22_500, "tokens/s")).toBe("22,500");
    expect(fmt(141_480_000, "tokens")).toBe("141,480,000");
    expect(fmt((524 * 12) / 3600, "hours")).toBe("1.747");
    expect(fmt(365.2, "hours")).toBe("365.2");
    expect(fmt(209.0839, "count")).toBe("209.1");
    expect(fmt(64, "count")).toBe("64");
    expect(fmt(524, "blocks")).toBe("524");
    expect(fmt(12, "seconds")).toBe("12");
    expect(fmt(3, "ratio")).toBe("3");
  });
  it("formats memory, bytes, FLOPs and percentages", () => {
    expect(fmt(17.012, "GB")).toBe("17.0 GB");
    expect(fmt(125.65, "GB")).toBe("125.7 GB");
    expect(fmt(24.43, "GiB")).toBe("24.4 GiB");
    expect(fmt(2, "bytes")).toBe("2 B");
    expect(fmt(3.355e9, "bytes")).toBe("3.4 GB");
    expect(fmt(1.3352e10, "FLOP")).toBe("13.4 GFLOP");
    expect(fmt(8e14, "FLOP")).toBe("800.0 TFLOP");
    expect(fmt(40, "percent")).toBe("40.0%");
  });
  it("takes a decimals override and shows non-finite values as a dash", () => {
    expect(fmt(1.7466666, "hours", 2)).toBe("1.75");
    expect(fmt(15_706_484_224, "params", 3)).toBe("15.706 B");
    expect(fmt(Number.NaN, "GB")).toBe("—");
  });
});
