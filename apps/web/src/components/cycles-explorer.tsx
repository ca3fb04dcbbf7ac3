import type { ReviewView } from "../lib/api";
import type { CyclesShown } from "../lib/review-page-data";
import type { CyclesQuery } from "../lib/search-params";
import { ExportLinks } from "./export-links";
import { LineChart } from "./line-chart";
import { formatCount } from "../lib/format";

const short = (hash: string) => (hash.length > 14 ? `${hash.slice(0, 8)}…${hash.slice(-4)}` : hash);

/** Links keep the page's other parameters (the experiment shown, the range) and change one. */
function href(params: Record<string, string | undefined>, hash: string): string {
  const q = new URLSearchParams(Object.entries(params).filter((e): e is [string, string] => e[1] !== undefined));
  return `?${q.toString()}${hash}`;
}

/**
 * Section 03 to explore: both miner counts per cycle (committed, the published review's wording; accepted, the
 * validators' rule), for the review's window or a chosen range of cycles, and one cycle's drill-down.
 */
export function CyclesExplorer({
  view,
  cycles,
  query,
  experiment,
}: {
  view: ReviewView;
  cycles: CyclesShown;
  query: CyclesQuery;
  experiment: string | undefined;
}) {
  const netuid = view.subnet.netuid;
  const { points, rangeNote } = cycles;
  if (points.length === 0) return null;
  const base = { experiment, from: query.range ? String(query.range.from) : undefined, to: query.range ? String(query.range.to) : undefined };
  const average = view.miners.average;
  return (
    <div data-section="cycles">
      <form className="range" method="get" action="#cycles-chart" aria-label="Cycles to show">
        {experiment ? <input type="hidden" name="experiment" value={experiment} /> : null}
        <label>
          From cycle <input name="from" inputMode="numeric" defaultValue={query.range?.from ?? points[0]!.cycle} />
        </label>
        <label>
          to cycle <input name="to" inputMode="numeric" defaultValue={query.range?.to ?? points.at(-1)!.cycle} />
        </label>
        <button type="submit">Show</button>
        {query.range ? <a href={href({ experiment }, "#cycles-chart")}>the review&apos;s window</a> : null}
      </form>
      {rangeNote ? (
        <p className="note" role="status">
          {rangeNote}
        </p>
      ) : null}
      <LineChart
        integerX
        id="cycles-chart"
        title={`Miners per cycle, subnet ${netuid}: committed and accepted`}
        xLabel="Cycle"
        yLabel="Miners"
        series={[
          { name: "committed in MinerCommit1/2 (measured)", color: "var(--kind-measured)", points: points.map((p) => ({ x: p.cycle, y: p.activeMiners })) },
          { name: "accepted by validators (measured)", color: "var(--a)", points: points.map((p) => ({ x: p.cycle, y: p.acceptedMiners })) },
          // The published average as a flat reference line over the same cycles.
          ...(average
            ? [
                {
                  name: "published average (reported)",
                  color: "var(--kind-reported)",
                  points: [
                    { x: points[0]!.cycle, y: average.value },
                    { x: points.at(-1)!.cycle, y: average.value },
                  ],
                },
              ]
            : []),
        ]}
      />
      <div className="table-wrap">
        <table data-table="cycles" className="stack">
          <thead>
            <tr>
              <th>Cycle</th>
              <th>Blocks</th>
              <th>Finalized hash</th>
              <th>Committed</th>
              <th>Accepted</th>
              <th>Registered</th>
              <th>Drill down</th>
            </tr>
          </thead>
          <tbody>
            {points.map((p) => (
              <tr key={`${p.firstBlock}-${p.length}`} data-cycle={p.cycle}>
                <td data-label="Cycle">{formatCount(p.cycle)}</td>
                <td className="num" data-label="Blocks">
                  #{formatCount(p.firstBlock)}–#{formatCount(p.lastBlock)}
                </td>
                <td className="num" data-label="Finalized hash" title={p.lastBlockHash}>
                  {short(p.lastBlockHash)}
                </td>
                <td className="num" data-label="Committed">
                  {formatCount(p.activeMiners)}
                </td>
                <td className="num" data-label="Accepted">
                  {formatCount(p.acceptedMiners)}
                </td>
                <td className="num" data-label="Registered">
                  {formatCount(p.registeredNeurons)}
                </td>
                <td data-label="Drill down">
                  <a href={href({ ...base, cycle: `${p.firstBlock}-${p.length}` }, "#cycle-detail")}>hotkeys</a>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <ExportLinks slug={view.slug} name="miners" />
      {cycles.detail ? <CycleDetail slug={view.slug} detail={cycles.detail} /> : null}
    </div>
  );
}

function CycleDetail({ slug, detail }: { slug: string; detail: NonNullable<CyclesShown["detail"]> }) {
  if (!detail.data) {
    return (
      <p className="empty" id="cycle-detail" role="status">
        {detail.problem}
      </p>
    );
  }
  const d = detail.data;
  return (
    <div id="cycle-detail" data-section="cycle-detail">
      <h3>
        Cycle {formatCount(d.cycle)}: blocks #{formatCount(d.firstBlock)}–#{formatCount(d.lastBlock)}
      </h3>
      <dl className="settings">
        <div>
          <dt>first block hash=</dt>
          <dd title={d.firstBlockHash}>{short(d.firstBlockHash)}</dd>
        </div>
        <div>
          <dt>finalized hash=</dt>
          <dd title={d.finalizedHash}>{short(d.finalizedHash)}</dd>
        </div>
        <div>
          <dt>committed=</dt>
          <dd>{formatCount(d.committed.count)}</dd>
        </div>
        <div>
          <dt>accepted=</dt>
          <dd>{formatCount(d.accepted.count)}</dd>
        </div>
        <div>
          <dt>registered=</dt>
          <dd>{formatCount(d.registeredNeurons)}</dd>
        </div>
      </dl>
      <ul className="note">
        <li>
          <strong>committed</strong>: {d.committed.description}
        </li>
        <li>
          <strong>accepted</strong>: {d.accepted.description}
        </li>
        {d.reads.map((r) => (
          <li key={r.role}>
            read at #{formatCount(r.block)} ({short(r.hash)}): {r.what}
          </li>
        ))}
      </ul>
      <div className="table-wrap">
        <table data-table="cycle-miners" className="stack">
          <thead>
            <tr>
              <th>UID</th>
              <th>Hotkey</th>
              <th>Commit block</th>
              <th>Committed</th>
              <th>Accepted, or why not</th>
            </tr>
          </thead>
          <tbody>
            {d.miners.map((m) => (
              <tr key={m.hotkey} data-hotkey={m.hotkey}>
                <td className="num" data-label="UID">
                  {m.uid}
                </td>
                <td className="num" data-label="Hotkey" title={m.hotkey}>
                  {short(m.hotkey)}
                </td>
                <td className="num" data-label="Commit block">
                  {m.commitBlock === null ? "—" : `#${formatCount(m.commitBlock)}${m.commitPhase ? ` (${m.commitPhase})` : ""}`}
                </td>
                <td data-label="Committed">{m.committed ? "yes" : "no"}</td>
                <td data-label="Accepted, or why not">
                  {m.accepted ? <span className="agree">accepted</span> : <span className="note">{m.rejection ?? "not accepted"}</span>}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <ExportLinks slug={slug} name={`cycle-${d.firstBlock}-${d.length}`} />
    </div>
  );
}
