"use client";

import { formatFigure, type Figure } from "@subnet-review/core";
import { useId, useState } from "react";

/** A figure's display value; clicking it opens its formula, kind and inputs (each input opens the same way). */
export function FigureValue({ figure, showKind = false }: { figure: Figure; showKind?: boolean }) {
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
        {formatFigure(figure)}
      </button>
      {showKind ? <KindBadge kind={figure.kind} /> : null}
      {open ? <Provenance id={panelId} figure={figure} /> : null}
    </span>
  );
}

export function KindBadge({ kind }: { kind: Figure["kind"] }) {
  return <span className={`kind kind-${kind}`}>{kind}</span>;
}

function Provenance({ id, figure }: { id: string; figure: Figure }) {
  const inputs = Object.entries(figure.inputs);
  return (
    <div className="prov" id={id} role="region" aria-label={`How ${figure.label} is computed`}>
      <div>
        <strong>{figure.label}</strong> <KindBadge kind={figure.kind} />
      </div>
      <div>{figure.formula}</div>
      {figure.source ? <div className="note">Source: {figure.source}</div> : null}
      {inputs.length > 0 ? (
        <ul>
          {inputs.map(([name, input]) => (
            <li key={name}>
              <code>{name}</code> = <FigureValue figure={input} />
            </li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}
