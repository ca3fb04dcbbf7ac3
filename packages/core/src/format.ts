import type { Figure } from "./figure.ts";
import { groupedFixed, groupedNumber, groupedTrimmed } from "./digits.ts";

function scaled(v: number, steps: [number, string][], decimals: number | undefined, base: (v: number) => string): string {
  for (const [div, suffix] of steps) {
    if (Math.abs(v) >= div) return `${(v / div).toFixed(decimals ?? (suffix === "B" || suffix === "T" ? 2 : 1))} ${suffix}`;
  }
  return base(v);
}

export interface FormatOptions {
  /** Override the number of decimals the unit's rule would use. */
  decimals?: number;
}

/**
 * Display text for a figure, as the published review shows it:
 * params "15.71 B" / "861.8 M" / "8.7 M" (T and B: 2 decimals, M and K: 1); GB/GiB "17.0 GB"; tokens/s, tokens
 * and blocks grouped integers "22,500", "141,480,000"; hours 3 decimals below 10 ("1.747"), else 1 ("365.2");
 * counts grouped when whole, else 1 decimal ("209.1"); FLOP with an SI prefix ("13.4 GFLOP"); percent "40.0%".
 */
export function formatFigure(f: Pick<Figure, "value" | "unit">, opts: FormatOptions = {}): string {
  const v = f.value;
  const d = opts.decimals;
  if (!Number.isFinite(v)) return "—";
  switch (f.unit) {
    case "params":
      return scaled(
        v,
        [
          [1e12, "T"],
          [1e9, "B"],
          [1e6, "M"],
          [1e3, "K"],
        ],
        d,
        (x) => groupedFixed(x, d ?? 0),
      );
    case "GB":
      return `${v.toFixed(d ?? 1)} GB`;
    case "GiB":
      return `${v.toFixed(d ?? 1)} GiB`;
    case "bytes":
      return Math.abs(v) < 1000
        ? `${groupedTrimmed(v, d ?? 2)} B`
        : scaled(
            v,
            [
              [1e12, "TB"],
              [1e9, "GB"],
              [1e6, "MB"],
              [1e3, "kB"],
            ],
            d ?? 1,
            String,
          );
    case "tokens/s":
    case "tokens":
    case "blocks":
      return groupedFixed(v, d ?? 0);
    case "hours":
      return groupedFixed(v, d ?? (Math.abs(v) < 10 ? 3 : Math.abs(v) < 100 ? 2 : 1));
    case "seconds":
      return d === undefined ? groupedTrimmed(v, 1) : groupedFixed(v, d);
    case "count":
      return d !== undefined ? groupedFixed(v, d) : Number.isInteger(v) ? groupedFixed(v) : groupedFixed(v, 1);
    case "ratio":
      return d === undefined ? groupedTrimmed(v, 2) : groupedFixed(v, d);
    case "percent":
      return `${v.toFixed(d ?? 1)}%`;
    case "FLOP":
      return scaled(
        v,
        [
          [1e15, "PFLOP"],
          [1e12, "TFLOP"],
          [1e9, "GFLOP"],
          [1e6, "MFLOP"],
        ].map(([a, b]) => [a as number, b as string]),
        d ?? 1,
        (x) => `${groupedFixed(x)} FLOP`,
      );
    default:
      return String(v);
  }
}

/**
 * A figure's value with enough digits to re-add its inputs: whole numbers in full ("861,793,792"), others to six
 * significant digits after the point at most ("1.746667").
 */
export function formatExact(value: number): string {
  if (!Number.isFinite(value)) return "—";
  if (Number.isInteger(value)) return groupedNumber(value);
  const magnitude = Math.floor(Math.log10(Math.abs(value)));
  return groupedTrimmed(value, Math.min(12, Math.max(2, 5 - magnitude)));
}
