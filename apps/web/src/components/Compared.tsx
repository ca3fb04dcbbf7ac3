import { formatFigure, type Figure } from "@subnet-review/core";
import type { ReviewView } from "../lib/api";
import { FigureValue, KindBadge } from "./FigureValue";

type Compared = ReviewView["sizes"]["rows"][number];

/** The published value beside ours, whether they agree at the published rounding, and why not where they differ. */
export function PublishedCheck({ published, agrees, difference, unit }: Pick<Compared, "published" | "agrees" | "difference"> & { unit: Figure["unit"] }) {
  if (!published) return <span className="note">not published</span>;
  const text = formatFigure({ ...published, unit });
  if (agrees) return <span className="agree" title={published.source}>✓ published {text}</span>;
  return (
    <>
      <span className="differ" title={published.source}>≠ published {text}</span>
      {difference ? <p className="why" data-why={published.id}>{difference.why}</p> : null}
    </>
  );
}

export function FigureRow({ figure, published, agrees, difference }: Compared) {
  return (
    <tr data-row={figure.id}>
      <td data-label="Figure">{figure.label}</td>
      <td className="num" data-label="Value">
        <FigureValue figure={figure} showKind />
      </td>
      <td className="how" data-label="How it's computed">{figure.formula}</td>
      <td data-label="Published">
        <PublishedCheck published={published} agrees={agrees} difference={difference} unit={figure.unit} />
      </td>
    </tr>
  );
}

/** The "Value / How it's computed / Published" table of sections 01 and 02. */
export function ComparedTable({ rows }: { rows: Compared[] }) {
  return (
    <div className="table-wrap">
      <table className="stack">
        <thead>
          <tr><th>Figure</th><th>Value</th><th className="how">How it&apos;s computed</th><th>Published</th></tr>
        </thead>
        <tbody>
          {rows.map((r) => <FigureRow key={r.figure.id} {...r} />)}
        </tbody>
      </table>
    </div>
  );
}

/** What ✓, ≠ and the kinds mean: shown once at the top of the page. */
export function MarksLegend() {
  return (
    <dl className="marks" aria-label="What the marks mean">
      <div><dt className="agree">✓</dt><dd>ours rounds to the published value, at the published precision</dd></div>
      <div><dt className="differ">≠</dt><dd>ours differs from the published value; the reason is given where it stands</dd></div>
      <div><dt><KindBadge kind="computed" /></dt><dd>computed by core from the model&apos;s config.json</dd></div>
      <div><dt><KindBadge kind="measured" /></dt><dd>measured by a training run, an eval or the chain</dd></div>
      <div><dt><KindBadge kind="estimated" /></dt><dd>estimated from assumed constants</dd></div>
      <div><dt><KindBadge kind="reported" /></dt><dd>as published in the original review</dd></div>
      <div><dt><KindBadge kind="derived" /></dt><dd>computed here from published values only</dd></div>
    </dl>
  );
}
