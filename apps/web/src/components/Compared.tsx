import { formatFigure, type Figure } from "@subnet-review/core";
import { FigureValue } from "./FigureValue";

/** The published value beside a computed one, and whether they agree at the published rounding. */
export function PublishedCheck({ published, agrees, unit }: { published: Figure | null; agrees: boolean | null; unit: Figure["unit"] }) {
  if (!published) return <span className="note">not published</span>;
  const text = formatFigure({ ...published, unit });
  return agrees ? (
    <span className="agree" title={published.source}>✓ published {text}</span>
  ) : (
    <span className="differ" title={published.source}>≠ published {text}</span>
  );
}

export function FigureRow({ figure, published, agrees }: { figure: Figure; published: Figure | null; agrees: boolean | null }) {
  return (
    <tr data-row={figure.id}>
      <td>{figure.label}</td>
      <td className="num">
        <FigureValue figure={figure} showKind />
      </td>
      <td className="how">{figure.formula}</td>
      <td>
        <PublishedCheck published={published} agrees={agrees} unit={figure.unit} />
      </td>
    </tr>
  );
}

/** The "Value / How it's computed / Published" table of sections 01 and 02. */
export function ComparedTable({ rows }: { rows: { figure: Figure; published: Figure | null; agrees: boolean | null }[] }) {
  return (
    <div className="table-wrap">
      <table>
        <thead>
          <tr><th>Figure</th><th>Value</th><th>How it&apos;s computed</th><th>Published</th></tr>
        </thead>
        <tbody>
          {rows.map((r) => <FigureRow key={r.figure.id} {...r} />)}
        </tbody>
      </table>
    </div>
  );
}
