import type { ReviewView } from "../lib/api";
import { FigureValue, KindBadge } from "./FigureValue";

export function MinersSection({ view }: { view: ReviewView }) {
  const { average, cycles } = view.miners;
  return (
    <section className="review" id="miners" aria-labelledby="miners-h">
      <div className="eyebrow">§ 03 · Metric</div>
      <h2 id="miners-h">Active Miners</h2>
      {average ? (
        <p data-figure-line="miners">
          <strong><FigureValue figure={average} /></strong> distinct active miners per cycle on average
          {cycles ? <> across <FigureValue figure={cycles} /> cycles</> : null}. <KindBadge kind="reported" />
        </p>
      ) : null}
      <p className="empty">
        No cycles have been ingested from the chain for subnet {view.subnet.netuid} yet, so there is no per-cycle chart:
        the published average above is shown as reported, not measured.
      </p>
    </section>
  );
}
