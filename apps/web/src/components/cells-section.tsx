import { formatDuration, formatFigure } from "@subnet-review/core";
import type { ReviewView } from "../lib/api";
import { cellColors, cellNames, formatCount, formatPoints } from "../lib/format";
import { kindOf } from "../lib/kind";
import { Fragment } from "react";
import { WhyRow } from "./compared";
import { EvalSection } from "./eval-section";
import { ExportLinks } from "./export-links";
import { FigureValue, KindBadge } from "./figure-value";
import { RunsSection } from "./runs-section";
import { SectionHeading } from "./section-heading";
import { Takeaway } from "./takeaway";

function cellDescriptions(K: number, N: number, E: number) {
  return [
    {
      cell: "A" as const,
      forward: `Gate masked to the K=${K} trainable experts only; the other ${E - K} routed experts parked on CPU.`,
      tests: "The masked-routing baseline: quantifies the train↔eval gap. Lightest memory.",
    },
    {
      cell: "B" as const,
      forward: `Gate masked to K=${K} trainable + N=${N} resident-but-frozen experts (the K+N routable set).`,
      tests: "Whether widening the routable set (without more trainable experts) lets the masked forward overlap natural routing.",
    },
    {
      cell: "C" as const,
      forward: `Unmodified natural top-k routing over all ${E} experts; no masking, every expert resident.`,
      tests: `Whether matching the train and eval forwards makes the K=${K} gains transfer. Highest memory.`,
    },
  ];
}

type Memory = ReviewView["cells"]["memory"][number];

function Mark({ agrees }: { agrees: boolean | null }) {
  if (agrees === null) return null;
  return agrees ? <span className="agree">✓</span> : <span className="differ">≠</span>;
}

function PeakCard({ m, title }: { m: Memory; title: string }) {
  return (
    <div className="card" data-card={`peak-${m.cell}`}>
      <div className="eyebrow">{title} · GPU peak</div>
      <div className="big">
        <FigureValue figure={m.totalGB} />
      </div>
      <div className="sub">
        estimated <KindBadge kind="estimated" /> · {formatFigure(m.trainable)} trainable · {m.compared.oursOnGpu}
        {m.compared.published ? (
          <>
            {" "}
            · <Mark agrees={m.compared.agrees} /> published {m.compared.published.text}
            {m.compared.published.fitsOn ? `, ${m.compared.published.fitsOn}` : ""}
          </>
        ) : null}
      </div>
    </div>
  );
}

export function CellsSection({ view }: { view: ReviewView }) {
  const { trainable: K, kept: N } = view.shard;
  const E = view.sizes.cards.expertsPerLayer.value;
  const { memory, memoryAssumptions: shape, wallclock, gsm8k, retention, steps, memoryRatio } = view.cells;
  const resident = new Map(memory.map((m) => [m.cell, m.resident]));
  const byCell = new Map(memory.map((m) => [m.cell, m]));
  const speedup = view.takeaway?.basis === "reported" ? view.takeaway.speedup : null;
  const experiment = view.runs?.experiment;
  return (
    <section className="review" id="cells" aria-labelledby="cells-h">
      <SectionHeading id="cells" number="04" title="Training Loss" />
      <Takeaway takeaway={view.takeaway} />

      <h3 id="variants">About the variants</h3>
      {view.experiment ? <p>{view.experiment.description}</p> : null}
      <div className="table-wrap">
        <table className="stack">
          <thead>
            <tr>
              <th>Cell</th>
              <th>Training-time forward pass</th>
              <th>Memory on GPU</th>
              <th>What it tests</th>
            </tr>
          </thead>
          <tbody>
            {cellDescriptions(K, N, E).map((d) => (
              <tr key={d.cell}>
                <td data-label="Cell">{d.cell === "B" ? `${cellNames.B} (N=${N})` : cellNames[d.cell]}</td>
                <td data-label="Training-time forward pass">{d.forward}</td>
                <td className="num" data-label="Memory on GPU">
                  {resident.get(d.cell) ? <FigureValue figure={resident.get(d.cell)!} /> : null} params
                </td>
                <td data-label="What it tests">{d.tests}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>

      <h3 id="memory">GPU memory footprint — what actually fits</h3>
      <div className="cards">
        {byCell.get("full") ? <PeakCard m={byCell.get("full")!} title={cellNames.full} /> : null}
        {byCell.get("A") ? <PeakCard m={byCell.get("A")!} title={cellNames.A} /> : null}
        <div className="card" data-card="memory-ratio">
          <div className="eyebrow">Full fine-tune / in-place ESFT memory</div>
          <div className="big">
            ≈<FigureValue figure={memoryRatio.ours} decimals={1} />×
          </div>
          <div className="sub">
            estimated <KindBadge kind="estimated" />
            {memoryRatio.published ? (
              <>
                {" "}
                · published peaks ≈<FigureValue figure={memoryRatio.published} decimals={1} />× <KindBadge kind={kindOf(memoryRatio.published)} />
              </>
            ) : null}
          </div>
        </div>
      </div>
      <p className="note">
        Ours, estimated by core: weights + gradients + AdamW states from the byte sizes, plus activations for micro-batch {shape.microBatch} ×{" "}
        {formatCount(shape.seqLen)} tokens
        {shape.checkpointing ? " with activation checkpointing per decoder layer" : " without activation checkpointing"} ({shape.source}), on the review&apos;s
        GPU ({shape.gpu}). The published peaks and &ldquo;Fits on&rdquo; are shown beside them as published; where they differ the row says what differs.
      </p>
      <div className="table-wrap">
        <table data-table="memory" className="stack">
          <caption className="note">Memory in GB (10⁹ bytes)</caption>
          <thead>
            <tr>
              <th>Setup</th>
              <th>Trainable params</th>
              <th>Weights + grads + optimizer, GB</th>
              <th>Activations, GB</th>
              <th>GPU peak, ours, GB</th>
              <th>GPU peak, published</th>
              <th>Fits on, ours</th>
              <th>Fits on, published</th>
            </tr>
          </thead>
          <tbody>
            {memory.map((m) => (
              <Fragment key={m.cell}>
                <tr data-cell={m.cell}>
                  <td data-label="Setup">{cellNames[m.cell]}</td>
                  <td className="num" data-label="Trainable params">
                    <FigureValue figure={m.trainable} />
                  </td>
                  <td className="num" data-label="Weights + grads + optimizer, GB">
                    <FigureValue figure={m.statesGB} />
                  </td>
                  <td className="num" data-label="Activations, GB">
                    <FigureValue figure={m.activationsGB} />
                  </td>
                  <td className="num" data-label="GPU peak, ours, GB">
                    <FigureValue figure={m.totalGB} showKind /> <Mark agrees={m.compared.agrees} />
                  </td>
                  <td className="num" data-label="GPU peak, published" data-published-peak={m.cell}>
                    {m.compared.published ? (
                      <>
                        {m.compared.published.text}
                        <KindBadge kind="reported" />
                      </>
                    ) : (
                      "—"
                    )}
                  </td>
                  <td data-label="Fits on, ours">
                    {m.compared.oursOnGpu}
                    {!m.compared.oursFitsOne && m.compared.oneCard.length ? <div className="note">one card of: {m.compared.oneCard.join(", ")}</div> : null}
                  </td>
                  <td data-label="Fits on, published" data-published-fits={m.cell}>
                    {m.compared.published?.fitsOn ?? "—"}{" "}
                    {m.compared.published && m.compared.published.fitsOne !== m.compared.oursFitsOne ? <span className="differ">≠</span> : null}
                  </td>
                </tr>
                <WhyRow id={`memory.${m.cell}`} columns={8} why={m.compared.why} />
              </Fragment>
            ))}
          </tbody>
        </table>
      </div>
      <ExportLinks slug={view.slug} name="memory" />

      <h3 id="loss">Training loss</h3>
      {view.runs ? (
        <RunsSection runs={view.runs} slug={view.slug} />
      ) : (
        <p className="empty">No training runs are recorded for this review yet: loss curves appear here as the trainer streams them.</p>
      )}

      <h3 id="gsm8k">Evaluation — GSM8K-CoT exact-match (strict)</h3>
      <p className="note">
        As published, at the step it reports; the published chart&apos;s base-model (step 0) point is not printed in its text, so the measured chart below
        carries step 0.
      </p>
      <div className="table-wrap">
        <table data-table="gsm8k">
          <thead>
            <tr>
              <th>Cell</th>
              <th>Step</th>
              <th>GSM8K strict, %</th>
            </tr>
          </thead>
          <tbody>
            {gsm8k.flatMap(({ cell, points }) =>
              points.map((p) => (
                <tr key={p.id}>
                  <td>
                    <span className="swatch" style={{ background: cellColors[cell] }} />
                    {cellNames[cell]}
                  </td>
                  <td className="num">{p.id.split(".step")[1] ?? "—"}</td>
                  <td className="num">
                    <FigureValue figure={p} showKind />
                  </td>
                </tr>
              )),
            )}
          </tbody>
        </table>
      </div>
      <ExportLinks slug={view.slug} name="gsm8k-reported" />
      <EvalSection evals={view.evals} slug={view.slug} experiment={experiment} />

      <h3 id="wallclock">Training cost — total wallclock</h3>
      <div className="cards">
        {wallclock.map(({ cell, figure }) => (
          <div className="card" key={cell} data-card={`wallclock-${cell}`}>
            <div className="eyebrow">{cellNames[cell]}</div>
            <div className="big">{formatDuration(figure.value, "minute")}</div>
            <div className="sub">
              {steps ? `${formatFigure(steps)} steps · ` : ""}
              <KindBadge kind="reported" />
              {cell === "A" && speedup ? (
                <div data-speedup="A">
                  ≈ <FigureValue figure={speedup} decimals={1} />× faster than C <KindBadge kind={kindOf(speedup)} />
                </div>
              ) : null}
            </div>
          </div>
        ))}
      </div>
      <ExportLinks slug={view.slug} name="wallclock" />

      <h3 id="retention">Retention across general benchmarks (no-forgetting check)</h3>
      <p className="note">Each trained cell against the base model; |delta| above 0.5 pp is flagged as a meaningful loss or gain. Scores in percent.</p>
      <div className="table-wrap">
        <table data-table="retention">
          <thead>
            <tr>
              <th>Benchmark</th>
              <th>Base (step 0)</th>
              <th>{cellNames.A}</th>
              <th>{cellNames.B}</th>
              <th>{cellNames.C}</th>
            </tr>
          </thead>
          <tbody>
            {retention.map((r) => (
              <tr key={r.benchmark}>
                <td>{r.label}</td>
                <td className="num">
                  <FigureValue figure={r.base} />
                </td>
                {r.cells.map((c) => (
                  <td className="num" key={c.cell}>
                    <FigureValue figure={c.score} /> (<span className={c.flagged ? "flag" : undefined}>{formatPoints(c.delta.value)}</span>)
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <p className="note">
        Scores as reported by the published review; deltas computed here. <KindBadge kind="reported" />
      </p>
      <ExportLinks slug={view.slug} name="retention" />
    </section>
  );
}
