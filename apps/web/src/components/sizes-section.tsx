import { formatFigure } from "@subnet-review/core";
import type { ReviewView } from "../lib/api";
import { ComparedTable, FigureRow } from "./compared";
import { ExportLinks } from "./export-links";
import { FigureValue } from "./figure-value";
import { SectionHeading } from "./section-heading";

export function SizesSection({ view }: { view: ReviewView }) {
  const { cards, rows, more } = view.sizes;
  const { trainable: K } = view.shard;
  const parked = cards.expertsPerLayer.value - K;
  return (
    <section className="review" id="sizes" aria-labelledby="sizes-h">
      <SectionHeading id="sizes" number="01" title="Model & Shard Sizes" />
      <div className="cards">
        <div className="card" data-card="full">
          <div className="eyebrow">Full architecture</div>
          <div className="big">
            <FigureValue figure={cards.full} />
          </div>
          <div className="sub">params · {formatFigure(cards.expertsPerLayer)} routed experts / layer</div>
        </div>
        <div className="card" data-card="held">
          <div className="eyebrow">Held on GPU for training</div>
          <div className="big">
            <FigureValue figure={cards.held} />
          </div>
          <div className="sub">
            params · backbone + {cards.sharedPerLayer} shared + {K} trainable experts × {formatFigure(cards.moeLayers)} layers
          </div>
        </div>
      </div>
      <p>
        {view.model.name} has {formatFigure(cards.expertsPerLayer)} routed experts per MoE layer. Partial training keeps K={K} of them trainable, plus the{" "}
        {cards.sharedPerLayer} shared experts and the backbone resident on GPU = {formatFigure(cards.held)} held for training, of which{" "}
        {formatFigure(cards.trainable)} is updated; the other {parked} routed experts per layer are parked on CPU.
      </p>
      <ComparedTable rows={rows} />
      <ExportLinks slug={view.slug} name="sizes" />
      <details>
        <summary className="note">More from the same census ({more.length} figures)</summary>
        <div className="table-wrap">
          <table className="stack">
            <tbody>
              {more.map((f) => (
                <FigureRow key={f.id} figure={f} published={null} agrees={null} difference={null} />
              ))}
            </tbody>
          </table>
        </div>
      </details>
    </section>
  );
}
