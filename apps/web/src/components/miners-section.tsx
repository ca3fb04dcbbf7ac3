import type { ReviewView } from "../lib/api";
import { formatCount } from "../lib/format";
import type { CyclesShown } from "../lib/review-page-data";
import type { CyclesQuery } from "../lib/search-params";
import { CyclesExplorer } from "./cycles-explorer";
import { FigureValue, KindBadge } from "./figure-value";
import { SectionHeading } from "./section-heading";

export function MinersSection({
  view,
  explorer,
  cyclesQuery,
  experiment,
}: {
  view: ReviewView;
  explorer: CyclesShown;
  cyclesQuery: CyclesQuery;
  experiment: string | undefined;
}) {
  const { average, cycles, series, measuredAverage, measuredAcceptedAverage } = view.miners;
  const first = series[0];
  const last = series.at(-1);
  return (
    <section className="review" id="miners" aria-labelledby="miners-h">
      <SectionHeading id="miners" number="03" title="Active Miners" />
      {measuredAverage && first && last ? (
        <>
          <p data-figure-line="miners-measured">
            <strong>
              <FigureValue figure={measuredAverage} />
            </strong>{" "}
            distinct active miners per cycle on average across {series.length} cycles ingested from the chain (cycles {formatCount(first.cycle)}–
            {formatCount(last.cycle)}). <KindBadge kind="measured" />
          </p>
          {measuredAcceptedAverage ? (
            <p data-figure-line="miners-accepted">
              <strong>
                <FigureValue figure={measuredAcceptedAverage} />
              </strong>{" "}
              miners per cycle on average are accepted by the subnet&apos;s validators&apos; rule. <KindBadge kind="measured" />
            </p>
          ) : null}
          <CyclesExplorer view={view} cycles={explorer} query={cyclesQuery} experiment={experiment} />
          <p className="note">
            Committed (the published review&apos;s &ldquo;active&rdquo;): registered hotkeys, not validators, whose commitment was made inside the cycle&apos;s
            MinerCommit1 or MinerCommit2 window; accepted: what the subnet&apos;s validators accept. Both read at finalized blocks; a cycle&apos;s hotkeys open
            with the definitions in full.
          </p>
        </>
      ) : null}
      {average ? (
        <p data-figure-line="miners">
          {measuredAverage ? "Published: " : null}
          <strong>
            <FigureValue figure={average} />
          </strong>{" "}
          distinct active miners per cycle on average
          {cycles ? (
            <>
              {" "}
              across <FigureValue figure={cycles} /> cycles
            </>
          ) : null}
          . <KindBadge kind="reported" />
        </p>
      ) : null}
      {measuredAverage ? null : (
        <p className="empty">
          No cycles have been ingested from the chain for subnet {view.subnet.netuid} yet, so there is no per-cycle chart: the published average above is shown
          as reported, not measured.
        </p>
      )}
    </section>
  );
}
