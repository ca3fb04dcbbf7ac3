"use client";

import { formatExact, formatFigure, type Figure } from "@subnet-review/core";
import { useId, useState } from "react";
import { kindOf, type DisplayKind } from "../lib/kind";

/**
 * A figure's display value; clicking it opens its formula, kind and inputs (each input opens the same way, with
 * its exact value so the inputs re-add). `decimals` fixes the digits where a column must read alike.
 */
export function FigureValue({ figure, showKind = false, decimals }: { figure: Figure; showKind?: boolean; decimals?: number }) {
  const [open, setOpen] = useState(false);
  const panelId = useId();
  return (
    <span className="figure" data-figure={figure.id}>
      <button
        type="button"
        className="fig"
        aria-expanded={open}
        aria-controls={panelId}
        onClick={() => setOpen((o) => !o)}
        title="How it's computed"
      >
        {formatFigure(figure, decimals === undefined ? {} : { decimals })}
      </button>
      {showKind ? <KindBadge kind={kindOf(figure)} /> : null}
      {open ? <Provenance id={panelId} figure={figure} /> : null}
    </span>
  );
}

export function KindBadge({ kind }: { kind: DisplayKind }) {
  return <span className={`kind kind-${kind}`}>{kind}</span>;
}

function Provenance({ id, figure }: { id: string; figure: Figure }) {
  const inputs = Object.entries(figure.inputs);
  return (
    <div className="prov" id={id} role="region" aria-label={`How ${figure.label} is computed`}>
      <div>
        <strong>{figure.label}</strong> <KindBadge kind={kindOf(figure)} />{" "}
        <a className="permalink" href={`#figure=${encodeURIComponent(figure.id)}`} aria-label={`Link to ${figure.label}`}>link</a>
      </div>
      <div>= <span className="exact">{formatExact(figure.value)}</span> {figure.unit}: {figure.formula}</div>
      {figure.source ? <div className="note">Source: {figure.source}</div> : null}
      {inputs.length > 0 ? (
        <ul>
          {inputs.map(([name, input]) => (
            <li key={name}>
              <code>{name}</code> = <span className="exact">{formatExact(input.value)}</span> {input.unit} (<FigureValue figure={input} />)
            </li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}
