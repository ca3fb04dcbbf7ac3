import { trainedCells as cells } from "@subnet-review/core";
import type { ReviewView } from "../lib/api";
import { cellColors, cellNames, formatCount, formatPoints } from "../lib/format";
import { ExportLinks } from "./export-links";
import { FigureValue, KindBadge } from "./figure-value";
import { LineChart } from "./line-chart";

type Evals = ReviewView["evals"];

/** Section 04's measured evals (recorded by `pnpm review eval`), shown under the published figures they check. */
export function EvalSection({ evals, slug, experiment }: { evals: Evals; slug: string; experiment: string | undefined }) {
  if (!evals) {
    return (
      <div data-section="evals-measured">
        <h3>Evaluation, measured</h3>
        <p className="empty">
          No measured evals are recorded for this review&apos;s runs yet: <code>pnpm review eval --run ID --step S --api URL --token T</code> stores them, and
          they appear here beside the published ones.
        </p>
      </div>
    );
  }
  return (
    <div data-section="evals-measured">
      <h3>
        Evaluation, measured: GSM8K-CoT exact match (strict) vs step <KindBadge kind="measured" />
      </h3>
      {evals.gsm8k.length > 0 ? (
        <>
          <LineChart
            id="chart-gsm8k"
            yDomain={[0, 100]}
            integerX
            title="GSM8K-CoT strict-match accuracy by training step, per cell (measured)"
            xLabel="training step"
            yLabel="GSM8K strict (%)"
            yFormat={(v) => `${v.toFixed(0)}%`}
            valueFormat={(v) => `${v.toFixed(1)}%`}
            series={evals.gsm8k.map((c) => ({
              name: cellNames[c.cell],
              color: cellColors[c.cell],
              points: c.points.map((p) => ({ x: p.step, y: p.figure.value })),
            }))}
          />
          <div className="table-wrap">
            <table data-table="gsm8k-measured">
              <thead>
                <tr>
                  <th>Cell</th>
                  <th>Run</th>
                  <th>Step</th>
                  <th>GSM8K strict</th>
                </tr>
              </thead>
              <tbody>
                {evals.gsm8k.flatMap((c) =>
                  c.points.map((p) => (
                    <tr key={p.figure.id}>
                      <td>
                        <span className="swatch" style={{ background: cellColors[c.cell] }} />
                        {cellNames[c.cell]}
                      </td>
                      <td>{c.runId}</td>
                      <td className="num">{formatCount(p.step)}</td>
                      <td className="num">
                        <FigureValue figure={p.figure} showKind />
                      </td>
                    </tr>
                  )),
                )}
              </tbody>
            </table>
          </div>
          <ExportLinks slug={slug} name="gsm8k-measured" experiment={experiment} />
        </>
      ) : (
        <p className="empty">No GSM8K evaluation of these runs is recorded yet.</p>
      )}

      {evals.retention.length > 0 ? (
        <>
          <h3>
            Retention, measured <KindBadge kind="measured" />
          </h3>
          <p className="note">Base = the step-0 evaluation (nothing trained yet); each cell at its last evaluated step; |delta| above 0.5 pp is flagged.</p>
          <div className="table-wrap">
            <table data-table="retention-measured">
              <thead>
                <tr>
                  <th>Benchmark</th>
                  <th>Base</th>
                  {cells.map((c) => (
                    <th key={c}>{cellNames[c]}</th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {evals.retention.map((r) => (
                  <tr key={r.benchmark} data-benchmark={r.benchmark}>
                    <td>
                      {r.label}
                      {r.note ? <div className="note">{r.note}</div> : null}
                    </td>
                    <td className="num">{r.base ? <FigureValue figure={r.base} /> : "—"}</td>
                    {cells.map((cell) => {
                      const c = r.cells.find((x) => x.cell === cell);
                      if (!c)
                        return (
                          <td className="num" key={cell}>
                            —
                          </td>
                        );
                      return (
                        <td className="num" key={cell}>
                          <FigureValue figure={c.score} />
                          {c.delta ? (
                            <>
                              {" "}
                              (
                              <span className={c.flagged ? "flag" : undefined} data-flagged={c.flagged ? "true" : "false"}>
                                {formatPoints(c.delta.value)}
                              </span>
                              )
                            </>
                          ) : null}
                        </td>
                      );
                    })}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <ExportLinks slug={slug} name="retention-measured" experiment={experiment} />
        </>
      ) : null}
    </div>
  );
}
