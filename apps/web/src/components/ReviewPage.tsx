import type { ReviewView } from "../lib/api";
import { Calculator } from "./Calculator";
import { CellsSection } from "./CellsSection";
import { KindBadge } from "./FigureValue";
import { MinersSection } from "./MinersSection";
import { SizesSection } from "./SizesSection";
import { ThemeToggle } from "./ThemeToggle";
import { ThroughputSection } from "./ThroughputSection";

export function ReviewPage({ view }: { view: ReviewView }) {
  return (
    <main>
      <header className="top">
        <div className="eyebrow">Network Telemetry · Status Review · subnet {view.subnet.netuid}</div>
        <ThemeToggle />
      </header>
      <h1>{view.title}</h1>
      <p className="lede">{view.summary}</p>
      <p className="note">
        Every figure opens its formula and inputs. Kinds: <KindBadge kind="computed" /> by core from the model config,{" "}
        <KindBadge kind="measured" /> by a run or the chain, <KindBadge kind="estimated" /> from assumed constants,{" "}
        <KindBadge kind="reported" /> as published ({view.source}).
      </p>
      <SizesSection view={view} />
      <ThroughputSection view={view} />
      <MinersSection view={view} />
      <CellsSection view={view} />
      <Calculator defaultConfig={view.model.config} trainable={view.shard.trainable} kept={view.shard.kept} gpu={view.cells.memoryAssumptions.gpu} />
      <footer>End of report · subnet {view.subnet.netuid} · model {view.model.name}</footer>
    </main>
  );
}
