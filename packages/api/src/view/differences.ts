// Where a figure of ours and the published one disagree, the view says by how much and why, in words built from
// the figures themselves (nothing typed in), so the page can explain each ≠ where it stands.
import { figure, formatExact, formatFigure, type Figure } from "@subnet-review/core";

/** A computed figure beside the published one it reproduces, and whether they agree at the published rounding. */
export interface ComparedFigure {
  figure: Figure;
  published: Figure | null;
  agrees: boolean | null;
  /** Only where they disagree: why, with ours at full precision. */
  difference: Difference | null;
}

export interface Difference {
  /** published − ours, in the figure's unit */
  delta: Figure;
  why: string;
}

/** Decimals a published value was printed with, read from the stored value (the seed keeps published roundings). */
export function publishedDecimals(value: number): number {
  const text = String(value);
  const dot = text.indexOf(".");
  return dot < 0 || text.includes("e") ? 0 : text.length - dot - 1;
}

/** The exact inputs of a figure, "total = 15,706,484,224, …", so a reader can re-add them. */
function exactInputs(f: Figure): string {
  return Object.entries(f.inputs)
    .map(([name, input]) => `${name} = ${formatExact(input.value)}`)
    .join(", ");
}

/** Why ours and the published value differ: ours exactly, what it rounds to, and the gap in published digits. */
export function explainDifference(ours: Figure, published: Figure): Difference {
  const delta = figure({
    id: `${ours.id}.vsPublished`,
    label: `${ours.label}: published − ours`,
    value: published.value - ours.value,
    unit: ours.unit,
    formula: "published value − our value",
    kind: "computed",
    inputs: { ours, published },
  });
  const rounded = formatFigure(ours);
  const publishedText = formatFigure({ ...published, unit: ours.unit });
  // One unit of the published last digit, in the figure's own scale (861.9 M: 0.1 M).
  const printed = publishedText.match(/-?[\d,]*\.?\d+/)?.[0]?.replace(/,/g, "") ?? "";
  const decimals = printed.includes(".") ? printed.length - printed.indexOf(".") - 1 : 0;
  const scale = Number(printed) === 0 ? 1 : published.value / Number(printed);
  const step = scale * 10 ** -decimals;
  const steps = Math.abs(delta.value) / step;
  const relative = ours.value === 0 ? null : (100 * delta.value) / ours.value;
  const inputs = exactInputs(ours);
  const why =
    `Ours is exactly ${formatExact(ours.value)} (${ours.formula}${inputs ? `: ${inputs}` : ""}), which rounds to ${rounded}. ` +
    `The published ${publishedText} is ${formatExact(Math.abs(delta.value))} ${delta.value > 0 ? "higher" : "lower"}` +
    `${relative === null ? "" : ` (${Math.abs(relative).toFixed(3)}%)`}, ${steps < 1.5 ? "one unit" : `${steps.toFixed(1)} units`} in its last printed digit; ` +
    "the published review does not print the exact value it rounded.";
  return { delta, why };
}

/** Agreement at the published rounding (both format to the same text), and why not where they differ. */
export function compare(computed: Figure, published: Figure | null): ComparedFigure {
  if (!published) return { figure: computed, published, agrees: null, difference: null };
  const agrees = formatFigure(computed) === formatFigure({ ...published, unit: computed.unit });
  return { figure: computed, published, agrees, difference: agrees ? null : explainDifference(computed, published) };
}
