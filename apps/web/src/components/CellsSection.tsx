import { formatFigure } from "@subnet-review/core";
import type { ReviewView } from "../lib/api";
import { cellColors, cellNames, formatDuration, formatPoints } from "../lib/format";
import { EvalSection } from "./EvalSection";
import { FigureValue, KindBadge } from "./FigureValue";
import { RunsSection } from "./RunsSection";

function cellDescriptions(K: number, N: number, E: number) {
  return [
    { cell: "A" as const, forward: `Gate masked to the K=${K} trainable experts only; the other ${E - K} routed experts parked on CPU.`, tests: "The masked-routing baseline: quantifies the train↔eval gap. Lightest memory." },
    { cell: "B" as const, forward: `Gate masked to K=${K} trainable + N=${N} resident-but-frozen experts (the K+N routable set).`, tests: "Whether widening the routable set (without more trainable experts) lets the masked forward overlap natural routing." },
    { cell: "C" as const, forward: `Unmodified natural top-k routing over all ${E} experts; no masking, every expert resident.`, tests: `Whether matching the train and eval forwards makes the K=${K} gains transfer. Highest memory.` },
  ];
}

export function CellsSection({ view }: { view: ReviewView }) {
  const { trainable: K, kept: N } = view.shard;
  const E = view.sizes.cards.expertsPerLayer.value;
  const { memory, memoryAssumptions: shape, wallclock, gsm8k, retention, steps } = view.cells;
  const resident = new Map(memory.map((m) => [m.cell, m.resident]));
  return (
    <section className="review" id="cells" aria-labelledby="cells-h">
      <div className="eyebrow">§ 04 · Metric</div>
      <h2 id="cells-h">Training Cells</h2>
      {view.experiment ? <p>{view.experiment.description}</p> : null}
      <div className="table-wrap">
        <table>
          <thead>
            <tr><th>Cell</th><th>Training-time forward pass</th><th>Memory on GPU</th><th>What it tests</th></tr>
          </thead>
          <tbody>
            {cellDescriptions(K, N, E).map((d) => (
              <tr key={d.cell}>
                <td>{d.cell === "B" ? `${cellNames.B} (N=${N})` : cellNames[d.cell]}</td>
                <td>{d.forward}</td>
                <td className="num">{resident.get(d.cell) ? <FigureValue figure={resident.get(d.cell)!} /> : null} params</td>
                <td>{d.tests}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>

      <h3>GPU memory footprint: what fits</h3>
      <p className="note">
        Estimated by core: weights + gradients + AdamW states from the byte sizes, plus activations for micro-batch{" "}
        {shape.microBatch} × {shape.seqLen.toLocaleString("en-US")} tokens{shape.checkpointing ? " with activation checkpointing per decoder layer" : ""}.
        The published peaks are shown beside them, as reported.
      </p>
      <div className="table-wrap">
        <table data-table="memory">
          <thead>
            <tr><th>Setup</th><th>Trainable</th><th>Weights + grads + optimizer</th><th>Activations</th><th>Estimated peak</th><th>Published peak</th><th>Fits on</th></tr>
          </thead>
          <tbody>
            {memory.map((m) => (
              <tr key={m.cell} data-cell={m.cell}>
                <td>{cellNames[m.cell]}</td>
                <td className="num"><FigureValue figure={m.trainable} /></td>
                <td className="num"><FigureValue figure={m.statesGB} /></td>
                <td className="num"><FigureValue figure={m.activationsGB} /></td>
                <td className="num"><FigureValue figure={m.totalGB} showKind /></td>
                <td className="num">
                  {m.publishedPeak.length ? m.publishedPeak.map((f) => formatFigure(f)).join(" – ") : "—"}
                  {m.publishedPeak.length ? <KindBadge kind="reported" /> : null}
                </td>
                <td>
                  {m.fitsOn.length ? m.fitsOn.join(", ") : m.gpusNeeded ? `${m.gpusNeeded} × ${m.gpu} (ZeRO-3 / FSDP)` : `does not fit ${m.gpu} even sharded`}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>

      <h3>Training loss</h3>
      {view.runs ? <RunsSection runs={view.runs} /> : <p className="empty">No training runs are recorded for this review yet: loss curves appear here as the trainer streams them.</p>}

      <h3>Evaluation: GSM8K-CoT exact match (strict)</h3>
      <div className="table-wrap">
        <table data-table="gsm8k">
          <thead>
            <tr><th>Cell</th><th>Step</th><th>GSM8K strict</th></tr>
          </thead>
          <tbody>
            {gsm8k.flatMap(({ cell, points }) =>
              points.map((p) => (
                <tr key={p.id}>
                  <td><span className="swatch" style={{ background: cellColors[cell] }} />{cellNames[cell]}</td>
                  <td className="num">{p.id.split(".step")[1] ?? "—"}</td>
                  <td className="num"><FigureValue figure={p} showKind /></td>
                </tr>
              )),
            )}
          </tbody>
        </table>
      </div>

      <h3>Training cost: total wallclock</h3>
      <div className="cards">
        {wallclock.map(({ cell, figure }) => (
          <div className="card" key={cell} data-card={`wallclock-${cell}`}>
            <div className="eyebrow">{cellNames[cell]}</div>
            <div className="big">{formatDuration(figure.value)}</div>
            <div className="sub">{steps ? `${formatFigure(steps)} steps · ` : ""}<KindBadge kind="reported" /></div>
          </div>
        ))}
      </div>

      <h3>Retention across general benchmarks</h3>
      <p className="note">Each trained cell against the base model; |delta| above 0.5 pp is flagged as a meaningful loss or gain.</p>
      <div className="table-wrap">
        <table data-table="retention">
          <thead>
            <tr><th>Benchmark</th><th>Base</th><th>{cellNames.A}</th><th>{cellNames.B}</th><th>{cellNames.C}</th></tr>
          </thead>
          <tbody>
            {retention.map((r) => (
              <tr key={r.benchmark}>
                <td>{r.label}</td>
                <td className="num"><FigureValue figure={r.base} /></td>
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
      <p className="note">Scores as reported by the published review; deltas computed here. <KindBadge kind="reported" /></p>
      <EvalSection evals={view.evals} />
    </section>
  );
}
