import type { ReviewView } from "../lib/api";
import { ExportLinks } from "./ExportLinks";
import { FigureValue, KindBadge } from "./FigureValue";
import { SectionHeading } from "./SectionHeading";
import { LineChart } from "./LineChart";

export function MinersSection({ view }: { view: ReviewView }) {
  const { average, cycles, series, measuredAverage } = view.miners;
  const first = series[0];
  const last = series.at(-1);
  return (
    <section className="review" id="miners" aria-labelledby="miners-h">
      <SectionHeading id="miners" number="03" title="Active Miners" />
      {measuredAverage && first && last ? (
        <>
          <p data-figure-line="miners-measured">
            <strong><FigureValue figure={measuredAverage} /></strong> distinct active miners per cycle on average across{" "}
            {series.length} cycles ingested from the chain (cycles {first.cycle.toLocaleString("en-US")}–{last.cycle.toLocaleString("en-US")}). <KindBadge kind="measured" />
          </p>
          <LineChart integerX id="chart-miners"
            title={`Distinct active miners per cycle, subnet ${view.subnet.netuid}`}
            xLabel="Cycle"
            yLabel="Distinct active miners"
            series={[
              { name: "distinct active miners per cycle (measured)", color: "var(--kind-measured)", points: series.map((p) => ({ x: p.cycle, y: p.activeMiners })) },
              // The published average as a flat reference line over the same cycles.
              ...(average ? [{ name: "published average (reported)", color: "var(--kind-reported)", points: [{ x: first.cycle, y: average.value }, { x: last.cycle, y: average.value }] }] : []),
            ]}
          />
          <ExportLinks slug={view.slug} name="miners" />
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
