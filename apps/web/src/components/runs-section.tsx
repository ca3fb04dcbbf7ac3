import { formatDuration, type Figure } from "@subnet-review/core";
import type { ReviewView } from "../lib/api";
import { cellColors, cellNames, formatCount } from "../lib/format";
import { ExportLinks } from "./export-links";
import { FigureValue, KindBadge } from "./figure-value";
import { Island } from "./island";
import { LineChart } from "./line-chart";

type Runs = NonNullable<ReviewView["runs"]>;
type Cell = Runs["cells"][number];

function Measured({ figure, showKind = true, decimals }: { figure: Figure | null; showKind?: boolean; decimals?: number }) {
  return figure ? <FigureValue figure={figure} showKind={showKind} {...(decimals === undefined ? {} : { decimals })} /> : <span className="note">—</span>;
}

const why = {
  request: "as asked",
  "latest-completed": "the latest completed experiment",
  review: "the review's own experiment (none has completed)",
  latest: "the latest experiment (none has completed)",
} as const;

/** The experiments with runs, as links: the page shows one at a time (?experiment=NAME). */
function ExperimentPicker({ runs }: { runs: Runs }) {
  return (
    <nav className="picker" aria-label="Experiments">
      <span className="note">Experiment ({why[runs.chosenBy]}):</span>
      <ul>
        {runs.experiments.map((e) => (
          <li key={e.name} data-experiment={e.name} data-status={e.status}>
            <a href={`?experiment=${encodeURIComponent(e.name)}#loss`} aria-current={e.name === runs.experiment ? "true" : undefined}>
              {e.name}
            </a>{" "}
            <span className="note">
              {e.status} · cells {e.cells.join(", ")} · {e.lastActivity.slice(0, 16).replace("T", " ")} UTC
            </span>
          </li>
        ))}
      </ul>
    </nav>
  );
}

function Settings({ c }: { c: Cell }) {
  const p = c.params;
  const items: [string, string | number | null][] = [
    ["model", p.model],
    ["K", c.trainable],
    ["N", c.cell === "B" ? c.kept : 0],
    ["routing", p.routingMode],
    ["top-k", p.topK],
    ["seq", c.shape ? formatCount(c.shape.seq) : null],
    ["batch", c.shape?.batch ?? null],
    ["lr", p.lr === null ? null : p.lr.toExponential(1)],
    ["seed", p.seed],
    ["dtype", c.shape ? `${c.shape.dtype}${c.shape.checkpointing ? ", checkpointing" : ""}` : null],
    ["device", c.device],
  ];
  return (
    <dl className="settings" data-settings={c.cell}>
      {items
        .filter(([, v]) => v !== null)
        .map(([k, v]) => (
          <div key={k}>
            <dt>{k}=</dt>
            <dd>{v}</dd>
          </div>
        ))}
    </dl>
  );
}

/** Section 04's measured runs: per cell of the chosen experiment, its latest completed run (else its latest). */
export function RunsSection({ runs, slug }: { runs: Runs; slug: string }) {
  const series = runs.cells.map((c) => ({ name: cellNames[c.cell], color: cellColors[c.cell], points: c.loss.map((p) => ({ x: p.step, y: p.loss })) }));
  const bucketed = runs.cells.filter((c) => c.stepsPerPoint > 1);
  const live = runs.cells.some((c) => c.status === "running");
  return (
    <div data-section="runs">
      {live ? <Island name="live-refresh" props={{ everyMs: 5_000 }} /> : null}
      <ExperimentPicker runs={runs} />
      <ul className="legend" aria-label="Cells">
        {runs.cells.map((c) => (
          <li key={c.cell} data-run={c.runId}>
            <span className="swatch" style={{ background: cellColors[c.cell] }} />
            {cellNames[c.cell]}: {formatCount(c.recordedSteps)} / {formatCount(c.steps)} steps, {c.status}
            {c.status === "running" ? " (the page refreshes while it trains)" : ""}
          </li>
        ))}
      </ul>
      {runs.newer.length ? (
        <p className="note" data-newer>
          Newer runs not shown, because a completed run of the same cell is: {runs.newer.map((r) => `${r.cell} ${r.runId} (${r.status})`).join("; ")}.
        </p>
      ) : null}
      <LineChart
        id="chart-loss"
        title={`Training loss by step, experiment ${runs.experiment}`}
        series={series}
        xLabel="step"
        integerX
        yLabel="training loss"
        yFormat={(v) => v.toFixed(2)}
        valueFormat={(v) => v.toFixed(3)}
      />
      <ExportLinks slug={slug} name="loss" experiment={runs.experiment} />
      <p className="note">
        Loss as each run measured it (mean cross-entropy over the step&apos;s target tokens) <KindBadge kind="measured" />
        {bucketed.length ? ` · ${bucketed.map((c) => `${c.cell}: each point is the mean of ${c.stepsPerPoint} steps`).join("; ")}` : ""}
      </p>
      <div className="table-wrap">
        <table data-table="runs" className="stack">
          <caption className="note">Memory in GiB (2³⁰ bytes, as torch reports it); loss in nats</caption>
          <thead>
            <tr>
              <th>Cell</th>
              <th>Run</th>
              <th>Final loss</th>
              <th>Tokens/s</th>
              <th>Wallclock</th>
              <th>GPU peak, measured, GiB</th>
              <th>Peak, estimated by core, GiB</th>
              <th>MFU</th>
            </tr>
          </thead>
          <tbody>
            {runs.cells.map((c) => (
              <tr key={c.cell} data-cell={c.cell}>
                <td data-label="Cell">
                  <span className="swatch" style={{ background: cellColors[c.cell] }} />
                  {cellNames[c.cell]}
                </td>
                <td data-label="Run">
                  <code>{c.runId}</code>
                  {c.status !== "completed" ? <span className="note"> · {c.status}</span> : null}
                  <Settings c={c} />
                  {c.error ? (
                    <div className="note flag" role="note">
                      {c.error.slice(0, 300)}
                    </div>
                  ) : null}
                </td>
                <td className="num" data-label="Final loss">
                  {c.finalLoss ? (
                    <FigureValue figure={c.finalLoss} decimals={3} />
                  ) : (
                    <span className="note">
                      — ({c.status}, {c.recordedSteps} steps so far)
                    </span>
                  )}
                </td>
                <td className="num" data-label="Tokens/s">
                  <Measured figure={c.tokensPerSecond} />
                </td>
                <td className="num" data-label="Wallclock">
                  {c.wallclock ? (
                    <>
                      {c.wallclock.value >= 60 ? `${formatDuration(c.wallclock.value, "minute")} · ` : ""}
                      <FigureValue figure={c.wallclock} decimals={1} /> s <KindBadge kind={c.wallclock.kind} />
                    </>
                  ) : (
                    <span className="note">—</span>
                  )}
                </td>
                <td className="num" data-label="GPU peak, measured, GiB">
                  {c.peakGiB ? <FigureValue figure={c.peakGiB} showKind /> : <span className="note">{c.device && !c.gpu ? "— (CPU run)" : "—"}</span>}
                </td>
                <td className="num" data-label="Peak, estimated by core, GiB">
                  <Measured figure={c.estimatedGiB} />
                </td>
                <td className="num" data-label="MFU">
                  <Measured figure={c.mfu} decimals={1} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <ExportLinks slug={slug} name="runs" experiment={runs.experiment} />
    </div>
  );
}
