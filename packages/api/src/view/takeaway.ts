// The one-line takeaway of section 04: cell A's GSM8K beside C's and how much faster A trained, from measured runs
// and evals when both cells have them, otherwise from the published figures (and labelled so).
import { figure, type Figure } from "@subnet-review/core";
import type { EvalsView } from "./evals.ts";
import type { ReportedFigures } from "./reported.ts";
import type { RunsView } from "./runs.ts";

export interface Takeaway {
  basis: "measured" | "reported";
  /** GSM8K strict of A and C at their last evaluated step */
  gsm8k: { A: Figure; C: Figure };
  wallclock: { A: Figure; C: Figure };
  /** wallclock C / wallclock A */
  speedup: Figure;
}

/** a / b as a ratio figure with both as inputs (kind computed: "derived" where both are reported). */
export function ratioFigure(id: string, label: string, a: Figure, b: Figure): Figure {
  return figure({
    id,
    label,
    value: a.value / b.value,
    unit: "ratio",
    formula: `${a.label} / ${b.label}`,
    kind: "computed",
    inputs: { numerator: a, denominator: b },
  });
}

function takeaway(basis: Takeaway["basis"], gsm8k: Takeaway["gsm8k"], wallclock: Takeaway["wallclock"]): Takeaway {
  const speedup = ratioFigure("takeaway.speedup", "How many times faster A trains than C (wallclock C / wallclock A)", wallclock.C, wallclock.A);
  return { basis, gsm8k, wallclock, speedup };
}

export function reportedTakeaway(reported: ReportedFigures): Takeaway | null {
  const [gA, gC, wA, wC] = [
    reported.withPrefix("gsm8k.A.").at(-1),
    reported.withPrefix("gsm8k.C.").at(-1),
    reported.get("wallclock.A"),
    reported.get("wallclock.C"),
  ];
  return gA && gC && wA && wC ? takeaway("reported", { A: gA, C: gC }, { A: wA, C: wC }) : null;
}

/** Only when cells A and C both finished and both have a GSM8K evaluation after step 0. */
export function measuredTakeaway(runs: RunsView | null, evals: EvalsView | null): Takeaway | null {
  const run = (cell: "A" | "C") => runs?.cells.find((c) => c.cell === cell && c.status === "completed" && c.wallclock);
  const gsm = (cell: "A" | "C") =>
    evals?.gsm8k
      .find((c) => c.cell === cell)
      ?.points.filter((p) => p.step > 0)
      .at(-1)?.figure;
  const [rA, rC, gA, gC] = [run("A"), run("C"), gsm("A"), gsm("C")];
  return rA && rC && gA && gC ? takeaway("measured", { A: gA, C: gC }, { A: rA.wallclock!, C: rC.wallclock! }) : null;
}
