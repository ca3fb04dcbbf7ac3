import type { ReviewView } from "../lib/api";
import { FigureValue, KindBadge } from "./FigureValue";
import { LineChart } from "./LineChart";

export function MinersSection({ view }: { view: ReviewView }) {
  const { average, cycles, series, measuredAverage } = view.miners;
  const first = series[0];
  const last = series.at(-1);
  return (
    <section className="review" id="miners" aria-labelledby="miners-h">
      <div className="eyebrow">§ 03 · Metric</div>
      <h2 id="miners-h">Active Miners</h2>
      {measuredAverage && first && last ? (
        <>
          <p data-figure-line="miners-measured">
            <strong><FigureValue figure={measuredAverage} /></strong> distinct active miners per cycle on average across{" "}
            {series.length} cycles ingested from the chain (cycles {first.cycle.toLocaleString("en-US")}–{last.cycle.toLocaleString("en-US")}). <KindBadge kind="measured" />
          </p>
          <LineChart integerX
            title={`Distinct active miners per cycle, subnet ${view.subnet.netuid}`}
            xLabel="Cycle"
            yLabel="Distinct active miners"
            series={[
              { name: "measured", color: "var(--kind-measured)", points: series.map((p) => ({ x: p.cycle, y: p.activeMiners })) },
              // The published average as a flat reference line over the same cycles.
              ...(average ? [{ name: "published", color: "var(--kind-reported)", points: [{ x: first.cycle, y: average.value }, { x: last.cycle, y: average.value }] }] : []),
            ]}
          />
          <ul className="legend" aria-label="Chart legend">
            <li><span className="swatch" style={{ background: "var(--kind-measured)" }} />distinct active miners per cycle (measured)</li>
            {average ? <li><span className="swatch" style={{ background: "var(--kind-reported)" }} />published average (reported)</li> : null}
          </ul>
          <p className="note">
            Active: registered hotkeys, not on the validator whitelist, that committed inside the cycle&apos;s MinerCommit1 or
            MinerCommit2 window, read at finalized blocks.
          </p>
        </>
      ) : null}
      {average ? (
        <p data-figure-line="miners">
          {measuredAverage ? "Published: " : null}
          <strong><FigureValue figure={average} /></strong> distinct active miners per cycle on average
          {cycles ? <> across <FigureValue figure={cycles} /> cycles</> : null}. <KindBadge kind="reported" />
        </p>
      ) : null}
      {measuredAverage ? null : (
        <p className="empty">
          No cycles have been ingested from the chain for subnet {view.subnet.netuid} yet, so there is no per-cycle chart:
          the published average above is shown as reported, not measured.
        </p>
      )}
    </section>
  );
}
