// Numbers as toLocaleString("en-US") writes them ("1,234.50"), without Intl: the first Intl call loads ICU's locale
// data, about 10 ms, a fifth of the CLI's start-up. Same digits: like ICU, this rounds the shortest decimal that
// reads back as the number (what String(v) prints: 999999.995, not the double's exact 999999.99499…), half away
// from zero; for NaN, ±Infinity and -0, Intl itself answers.

const thousands = /\B(?=(\d{3})+(?!\d))/g;

/** |v|'s shortest decimal digits and how many of them come before the point. */
function decimalDigits(abs: number): { digits: string; point: number } {
  const [mantissa, exponent] = String(abs).split("e");
  const [whole, fraction = ""] = mantissa!.split(".");
  const digits = `${whole}${fraction}`;
  return { digits, point: whole!.length + Number(exponent ?? 0) };
}

/** `v` with thousands separators and exactly `decimals` digits after the point. */
export function groupedFixed(v: number, decimals = 0): string {
  if (!Number.isFinite(v) || Object.is(v, -0)) {
    return v.toLocaleString("en-US", { minimumFractionDigits: decimals, maximumFractionDigits: decimals });
  }
  let { digits, point } = decimalDigits(Math.abs(v));
  if (point < 1) {
    digits = `${"0".repeat(1 - point)}${digits}`;
    point = 1;
  }
  digits = digits.padEnd(point + decimals + 1, "0");
  // keep point + decimals digits, rounding half up on the next one (a decimal carry, as on paper)
  const kept = digits
    .slice(0, point + decimals)
    .split("")
    .map(Number);
  if (Number(digits[point + decimals]) >= 5) {
    let i = kept.length - 1;
    while (i >= 0 && kept[i] === 9) kept[i--] = 0;
    if (i >= 0) kept[i]! += 1;
    else {
      kept.unshift(1);
      point += 1;
    }
  }
  const whole = kept
    .slice(0, point)
    .join("")
    .replace(/^0+(?=\d)/, "");
  const fraction = kept.slice(point).join("");
  return `${v < 0 ? "-" : ""}${whole.replace(thousands, ",")}${decimals > 0 ? `.${fraction}` : ""}`;
}

/** `v` with thousands separators and at most `maxDecimals` digits after the point (trailing zeros dropped). */
export function groupedTrimmed(v: number, maxDecimals: number): string {
  const text = groupedFixed(v, maxDecimals);
  return text.includes(".") ? text.replace(/\.?0+$/, "") : text;
}

/** As `v.toLocaleString("en-US")` with its defaults: separators, at most 3 digits after the point. */
export function groupedNumber(v: number): string {
  return groupedTrimmed(v, 3);
}
