import type { Figure } from "@subnet-review/core";
import type { ReviewView } from "../lib/api";
import { cellColors, cellNames, formatDuration } from "../lib/format";
import { FigureValue, KindBadge } from "./FigureValue";
import { LineChart } from "./LineChart";
import { RunsLiveRefresh } from "./RunsLiveRefresh";

type Runs = NonNullable<ReviewView["runs"]>;

function Measured({ figure, showKind = true }: { figure: Figure | null; showKind?: boolean }) {
  return figure ? <FigureValue figure={figure} showKind={showKind} /> : <span className="note">—</span>;
}

/** Section 04's measured runs: the latest run of each cell of the review's experiment, as the trainer recorded it. */
export function RunsSection({ runs }: { runs: Runs }) {
  const series = runs.cells.map((c) => ({ name: cellNames[c.cell], color: cellColors[c.cell], points: c.loss.map((p) => ({ x: p.step, y: p.loss })) }));
  const bucketed = runs.cells.filter((c) => c.stepsPerPoint > 1);
  const live = runs.cells.some((c) => c.status === "running");
  return (
    <div data-section="runs">
      {live ? <RunsLiveRefresh everyMs={5_000} /> : null}
      <ul className="legend" aria-label="Cells">
        {runs.cells.map((c) => (
          <li key={c.cell} data-run={c.runId}>
            <span className="swatch" style={{ background: cellColors[c.cell] }} />
            {cellNames[c.cell]}: {c.recordedSteps.toLocaleString("en-US")} / {c.steps.toLocaleString("en-US")} steps, {c.status}
            {c.status === "running" ? " (the page refreshes while it trains)" : ""}
          </li>
        ))}
      </ul>
      <LineChart title={`Training loss by step, experiment ${runs.experiment}`} series={series} xLabel="step" integerX yLabel="training loss" yFormat={(v) => v.toFixed(2)} />
      <p className="note">
        Loss as each run measured it (mean cross-entropy over the step&apos;s target tokens) <KindBadge kind="measured" />
        {bucketed.length ? ` · ${bucketed.map((c) => `${c.cell}: each point is the mean of ${c.stepsPerPoint} steps`).join("; ")}` : ""}
      </p>
      <div className="table-wrap">
        <table data-table="runs">
          <thead>
            <tr><th>Cell</th><th>Run</th><th>Final loss</th><th>Tokens/s</th><th>Wallclock</th><th>GPU peak, measured</th><th>Peak, estimated by core</th><th>MFU</th></tr>
          </thead>
          <tbody>
            {runs.cells.map((c) => (
              <tr key={c.cell} data-cell={c.cell}>
                <td><span className="swatch" style={{ background: cellColors[c.cell] }} />{cellNames[c.cell]}</td>
                <td>
                  <code>{c.runId}</code>
                  <div className="note">
                    K={c.trainable}{c.cell === "B" ? `, N=${c.kept}` : ""}
                    {c.shape ? ` · ${c.shape.batch} × ${c.shape.seq.toLocaleString("en-US")} tokens, ${c.shape.dtype}${c.shape.checkpointing ? ", checkpointing" : ""}` : ""}
                    {c.device ? ` · ${c.device}` : ""}
                    {c.status !== "completed" ? ` · ${c.status}` : ""}
                  </div>
                  {c.error ? <div className="note flag" role="note">{c.error.slice(0, 300)}</div> : null}
                </td>
                <td className="num"><Measured figure={c.finalLoss} showKind={false} /></td>
                <td className="num"><Measured figure={c.tokensPerSecond} /></td>
                <td className="num">
                  {c.wallclock ? (
                    <>
                      {c.wallclock.value >= 60 ? `${formatDuration(c.wallclock.value)} · ` : ""}
                      <FigureValue figure={c.wallclock} /> s <KindBadge kind={c.wallclock.kind} />
                    </>
                  ) : (
                    <span className="note">—</span>
                  )}
                </td>
                <td className="num">{c.peakGiB ? <FigureValue figure={c.peakGiB} showKind /> : <span className="note">{c.device && !c.gpu ? "— (CPU run)" : "—"}</span>}</td>
                <td className="num"><Measured figure={c.estimatedGiB} /></td>
                <td className="num"><Measured figure={c.mfu} /></td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}
