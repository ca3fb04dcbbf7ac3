"use client";

import type { Figure } from "@subnet-review/core";
// the subpath, not the barrel: this runs on every page load, and the barrel reaches zod
import { formatExact, formatFigure } from "@subnet-review/core/format";
import { useContext, useId, useState } from "react";
import { kindOf, type DisplayKind } from "../lib/kind";
import { KindBadge } from "./kind-badge";
import { ReviewScopeContext } from "./review-scope";

/** What the page needs to show a figure before it is opened; its formula and inputs are fetched on opening. */
export interface FigureRef {
  id: string;
  text: string;
  kind: DisplayKind;
}

/**
 * A figure's display value; clicking it opens its formula, kind and inputs (each input opens the same way, with its
 * exact value so the inputs re-add). The review's figures come as a FigureRef and their provenance is fetched from
 * /figure/SLUG/ID when opened (so the page does not carry every provenance tree); the calculator's figures, computed
 * in the browser, come whole.
 */
export function FigureButton({
  figure,
  figureRef,
  showKind = false,
  decimals,
}: {
  figure?: Figure;
  figureRef?: FigureRef;
  showKind?: boolean;
  decimals?: number;
}) {
  const scope = useContext(ReviewScopeContext);
  const [open, setOpen] = useState(false);
  const [loaded, setLoaded] = useState<Figure | null>(figure ?? null);
  const [problem, setProblem] = useState<string | null>(null);
  const panelId = useId();
  const id = figure?.id ?? figureRef!.id;
  const text = figure ? formatFigure(figure, decimals === undefined ? {} : { decimals }) : figureRef!.text;
  const kind = figure ? kindOf(figure) : figureRef!.kind;
  function toggle() {
    setOpen((o) => !o);
    if (loaded || !scope) return;
    const query = scope.experiment ? `?experiment=${encodeURIComponent(scope.experiment)}` : "";
    fetch(`/figure/${scope.slug}/${encodeURIComponent(id)}${query}`)
      .then((r) => (r.ok ? (r.json() as Promise<Figure>) : r.text().then((t) => Promise.reject(new Error(t)))))
      .then(setLoaded, (err: Error) => setProblem(`Its formula could not be loaded: ${err.message}`));
  }
  return (
    <span className="figure" data-figure={id}>
      <button type="button" className="fig" aria-expanded={open} aria-controls={open ? panelId : undefined} onClick={toggle} title="How it's computed">
        {text}
      </button>
      {showKind ? <KindBadge kind={kind} /> : null}
      {open ? (
        loaded ? (
          <Provenance id={panelId} figure={loaded} />
        ) : (
          <span className="prov-loading note" id={panelId} role="status">
            {problem ?? "loading…"}
          </span>
        )
      ) : null}
    </span>
  );
}

function Provenance({ id, figure }: { id: string; figure: Figure }) {
  const inputs = Object.entries(figure.inputs);
  return (
    <div className="prov" id={id} role="region" aria-label={`How ${figure.label} is computed`}>
      <div>
        <strong>{figure.label}</strong> <KindBadge kind={kindOf(figure)} />{" "}
        <a className="permalink" href={`#figure=${encodeURIComponent(figure.id)}`} aria-label={`Link to ${figure.label}`}>
          link
        </a>
      </div>
      <div>
        = <span className="exact">{formatExact(figure.value)}</span> {figure.unit}: {figure.formula}
      </div>
      {figure.source ? <div className="note">Source: {figure.source}</div> : null}
      {inputs.length > 0 ? (
        <ul>
          {inputs.map(([name, input]) => (
            <li key={name}>
              <code>{name}</code> = <span className="exact">{formatExact(input.value)}</span> {input.unit} (<FigureButton figure={input} />)
            </li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}
