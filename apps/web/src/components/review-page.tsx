import type { ReviewView } from "../lib/api";
import type { CyclesQuery } from "../lib/search-params";
import { LazyCalculator } from "./lazy-calculator";
import { CellsSection } from "./cells-section";
import { MarksLegend } from "./compared";
import { HashOpener } from "./hash-opener";
import { MinersSection } from "./miners-section";
import { ReviewScope } from "./review-scope";
import { SizesSection } from "./sizes-section";
import { ThemeToggle } from "./theme-toggle";
import { ThroughputSection } from "./throughput-section";

/** `asOf`: the page is the last good copy of that time (the api did not answer), with `problem` saying why. */
export function ReviewPage({
  view,
  asOf = null,
  problem = null,
  cyclesQuery = { range: null, cycle: null },
  experiment,
}: {
  view: ReviewView;
  asOf?: string | null;
  problem?: string | null;
  cyclesQuery?: CyclesQuery;
  experiment?: string | undefined;
}) {
  return (
    <ReviewScope slug={view.slug} experiment={experiment}>
      <main>
        <HashOpener />
        {asOf ? (
          <p className="stale" role="status" data-as-of={asOf}>
            Data as of {asOf.replace("T", " ").replace(/\.\d+Z$/, " UTC")}: {problem ?? "the api did not answer"}, so this is the last copy this server
            received.
          </p>
        ) : null}
        <header className="top">
          <div className="eyebrow">Network Telemetry · Status Review · subnet {view.subnet.netuid}</div>
          <ThemeToggle />
        </header>
        <h1>{view.title}</h1>
        <p className="lede">{view.summary}</p>
        <p className="note">Every figure opens its formula and inputs; the published figures are from {view.source}.</p>
        <MarksLegend />
        <SizesSection view={view} />
        <ThroughputSection view={view} />
        <MinersSection view={view} cyclesQuery={cyclesQuery} experiment={experiment} />
        <CellsSection view={view} />
        <LazyCalculator defaultConfig={view.model.config} trainable={view.shard.trainable} kept={view.shard.kept} shape={view.cells.memoryAssumptions} />
        <footer>
          End of report · subnet {view.subnet.netuid} · model {view.model.name}
        </footer>
      </main>
    </ReviewScope>
  );
}
