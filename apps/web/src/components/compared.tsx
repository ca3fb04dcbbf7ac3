import { formatFigure, type Figure } from "@subnet-review/core";
import { Fragment } from "react";
import type { ReviewView } from "../lib/api";
import { FigureValue, KindBadge } from "./figure-value";

type Compared = ReviewView["sizes"]["rows"][number];

/** The published value beside ours and whether they agree at the published rounding. */
export function PublishedCheck({ published, agrees, unit }: Pick<Compared, "published" | "agrees"> & { unit: Figure["unit"] }) {
  if (!published) return <span className="note">not published</span>;
  const text = formatFigure({ ...published, unit });
  return agrees ? (
    <span className="agree" title={published.source}>
      ✓ published {text}
    </span>
  ) : (
    <span className="differ" title={published.source}>
      ≠ published {text}
    </span>
  );
}

/** Why ours differs from the published value: a full-width row under the row it explains. */
export function WhyRow({ id, columns, why }: { id: string; columns: number; why: string | null | undefined }) {
  if (!why) return null;
  return (
    <tr className="why-row" data-why-for={id}>
      <td colSpan={columns}>
        <span className="differ">≠</span> <span className="why">{why}</span>
      </td>
    </tr>
  );
}

export function FigureRow({ figure, published, agrees, difference }: Compared) {
  return (
    <Fragment>
      <tr data-row={figure.id}>
        <td data-label="Figure">{figure.label}</td>
        <td className="num" data-label="Value">
          <FigureValue figure={figure} showKind />
        </td>
        <td className="how" data-label="How it's computed">
          {figure.formula}
        </td>
        <td data-label="Published">
          <PublishedCheck published={published} agrees={agrees} unit={figure.unit} />
        </td>
      </tr>
      <WhyRow id={figure.id} columns={4} why={difference?.why} />
    </Fragment>
  );
}

/** The "Value / How it's computed / Published" table of sections 01 and 02. */
export function ComparedTable({ rows }: { rows: Compared[] }) {
  return (
    <div className="table-wrap">
      <table className="stack">
        <thead>
          <tr>
            <th>Figure</th>
            <th>Value</th>
            <th className="how">How it&apos;s computed</th>
            <th>Published</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <FigureRow key={r.figure.id} {...r} />
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** What ✓, ≠ and the kinds mean: shown once at the top of the page. */
export function MarksLegend() {
  return (
    <dl className="marks" aria-label="What the marks mean">
      <div>
        <dt className="agree">✓</dt>
        <dd>ours rounds to the published value, at the published precision</dd>
      </div>
      <div>
        <dt className="differ">≠</dt>
        <dd>ours differs from the published value; the reason is given where it stands</dd>
      </div>
      <div>
        <dt>
          <KindBadge kind="computed" />
        </dt>
        <dd>computed by core from the model&apos;s config.json</dd>
      </div>
      <div>
        <dt>
          <KindBadge kind="measured" />
        </dt>
        <dd>measured by a training run, an eval or the chain</dd>
      </div>
      <div>
        <dt>
          <KindBadge kind="estimated" />
        </dt>
        <dd>estimated from assumed constants</dd>
      </div>
      <div>
        <dt>
          <KindBadge kind="reported" />
        </dt>
        <dd>as published in the original review</dd>
      </div>
      <div>
        <dt>
          <KindBadge kind="derived" />
        </dt>
        <dd>computed here from published values only</dd>
      </div>
    </dl>
  );
}
