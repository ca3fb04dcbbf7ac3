import { describe, expect, it } from "vitest";
import { groupedFixed, groupedTrimmed } from "../src/digits.ts";
import { mulberry32 } from "../src/random.ts";

const intl = (v: number, min: number, max: number) => v.toLocaleString("en-US", { minimumFractionDigits: min, maximumFractionDigits: max });

describe("grouped digits without Intl", () => {
  it("writes what toLocaleString('en-US') writes, over integers, fractions, halves, negatives and edges", () => {
    const random = mulberry32(102);
    const values = [
      0,
      -0,
      1,
      -1,
      999,
      1000,
      -1000,
      999_999.995,
      0.5,
      1.5,
      2.5,
      -2.5,
      0.125,
      1.005,
      1e21,
      -1e21,
      1.7976931348623157e308,
      5e-324,
      Number.NaN,
      Infinity,
      -Infinity,
      15_706_484_224,
      2 ** 53,
      -0.001,
    ];
    for (let i = 0; i < 800; i++) {
      const magnitude = 10 ** Math.floor(random() * 24 - 6);
      values.push((random() - 0.3) * magnitude, Math.round((random() - 0.5) * magnitude * 8) / 8);
    }
    for (const v of values) {
      for (let d = 0; d <= 12; d++) {
        expect(groupedFixed(v, d), `${v} at ${d}`).toBe(intl(v, d, d));
        expect(groupedTrimmed(v, d), `${v} at most ${d}`).toBe(intl(v, 0, d));
      }
    }
  });
});
