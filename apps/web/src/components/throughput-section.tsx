import { formatFigure } from "@subnet-review/core";
import type { ReviewView } from "../lib/api";
import { ComparedTable } from "./compared";
import { ExportLinks } from "./export-links";
import { FigureValue, KindBadge } from "./figure-value";
import { SectionHeading } from "./section-heading";

export function ThroughputSection({ view }: { view: ReviewView }) {
  const { headline, rows, windowNote } = view.throughput;
  const rate = headline.figure.inputs.gpuTokensPerSecond;
  const multiplier = headline.figure.inputs.multiplier;
  return (
    <section className="review" id="throughput" aria-labelledby="throughput-h">
      <SectionHeading id="throughput" number="02" title="Network Throughput (tokens/sec)" />
      <div className="cards">
        <div className="card" data-card="tokens-per-second">
          <div className="eyebrow">Network throughput · across the window</div>
          <div className="big">
            <FigureValue figure={headline.figure} />
          </div>
          <div className="sub">
            tokens / sec · {rate ? `${rate.label} (${formatFigure(rate)})` : "per-GPU rate"} × {multiplier ? formatFigure(multiplier) : "?"}
            <KindBadge kind="estimated" />
          </div>
        </div>
      </div>
      <ComparedTable rows={rows} />
      <ExportLinks slug={view.slug} name="throughput" />
      <p className="note">
        Estimated: the per-GPU rate and the multiplier for merged miner outputs are assumed constants, not measurements.
        {windowNote ? ` Window hours: ${windowNote}.` : null}
      </p>
    </section>
  );
}
