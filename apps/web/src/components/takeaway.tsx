import type { ReviewView } from "../lib/api";
import { formatDuration } from "@subnet-review/core";
import { cellNames } from "../lib/format";
import { kindOf } from "../lib/kind";
import { FigureValue, KindBadge } from "./figure-value";

/** The one-line takeaway, its numbers from figures: measured runs and evals when A and C have them, else published. */
export function Takeaway({ takeaway: t }: { takeaway: ReviewView["takeaway"] }) {
  if (!t) return null;
  return (
    <p className="takeaway" data-takeaway={t.basis}>
      <strong>One-line takeaway</strong> ({t.basis === "measured" ? "from measured runs and evals" : "from the published figures"}{" "}
      <KindBadge kind={t.basis === "measured" ? "measured" : "reported"} />
      ): {cellNames.A} reaches <FigureValue figure={t.gsm8k.A} /> GSM8K-CoT strict against <FigureValue figure={t.gsm8k.C} /> for {cellNames.C}, while training{" "}
      ≈<FigureValue figure={t.speedup} decimals={1} />× faster than C ({formatDuration(t.wallclock.A.value, "minute")} vs{" "}
      {formatDuration(t.wallclock.C.value, "minute")}) <KindBadge kind={kindOf(t.speedup)} />.
    </p>
  );
}
