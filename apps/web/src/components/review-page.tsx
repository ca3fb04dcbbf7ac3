import type { ReviewView } from "../lib/api";
import type { CyclesShown } from "../lib/review-page-data";
import type { CyclesQuery } from "../lib/search-params";
import { CellsSection } from "./cells-section";
import { MarksLegend } from "./compared";
import { Island } from "./island";
import { MinersSection } from "./miners-section";
import { ReviewScope } from "./review-scope";
import { SizesSection } from "./sizes-section";
import { ThroughputSection } from "./throughput-section";

/** `asOf`: the page is the last good copy of that time (the api did not answer), with `problem` saying why. */
export function ReviewPage({
  view,
  asOf = null,
  problem = null,
  cycles,
  cyclesQuery = { range: null, cycle: null },
  experiment,
}: {
  view: ReviewView;
  asOf?: string | null;
  problem?: string | null;
  cycles: CyclesShown;
  cyclesQuery?: CyclesQuery;
  experiment?: string | undefined;
}) {
  return (
    <ReviewScope slug={view.slug} experiment={experiment}>
      <main data-slug={view.slug} data-experiment={experiment}>
        {asOf ? (
          <p className="stale" role="status" data-as-of={asOf}>
            Data as of {asOf.replace("T", " ").replace(/\.\d+Z$/, " UTC")}: {problem ?? "the api did not answer"}, so this is the last copy this server
            received.
          </p>
        ) : null}
        <header className="top">
          <div className="eyebrow">Network Telemetry · Status Review · subnet {view.subnet.netuid}</div>
          <Island name="theme-toggle" props={{}} />
        </header>
        <h1>{view.title}</h1>
        <p className="lede">{view.summary}</p>
        <p className="note">Every figure opens its formula and inputs; the published figures are from {view.source}.</p>
        <MarksLegend />
        <SizesSection view={view} />
        <ThroughputSection view={view} />
        <MinersSection view={view} explorer={cycles} cyclesQuery={cyclesQuery} experiment={experiment} />
        <CellsSection view={view} />
        <Island
          name="calculator"
          as="div"
          props={{ defaultConfig: view.model.config, trainable: view.shard.trainable, kept: view.shard.kept, shape: view.cells.memoryAssumptions }}
        />
        <footer>
          End of report · subnet {view.subnet.netuid} · model {view.model.name}
        </footer>
        {/* last: it opens a #figure= permalink once the figures before it are interactive */}
        <Island name="hash-opener" props={{}} />
      </main>
    </ReviewScope>
  );
}
