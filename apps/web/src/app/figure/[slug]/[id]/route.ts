import type { Figure } from "@subnet-review/core";
import { isNotFound, reviewView } from "../../../../lib/last-good";
import { experimentParam } from "../../../../lib/search-params";

export const dynamic = "force-dynamic";

const text = (status: number, body: string) => new Response(body, { status, headers: { "content-type": "text/plain; charset=utf-8" } });

function isFigure(x: object): x is Figure {
  const f = x as Partial<Figure>;
  return typeof f.id === "string" && typeof f.value === "number" && typeof f.formula === "string" && typeof f.kind === "string" && typeof f.inputs === "object";
}

/** The first figure with this id anywhere in the view, inputs included (one id names one figure). */
function findFigure(root: unknown, id: string): Figure | null {
  const seen = new Set<object>();
  const stack: unknown[] = [root];
  while (stack.length) {
    const x = stack.pop();
    if (typeof x !== "object" || x === null || seen.has(x)) continue;
    seen.add(x);
    if (isFigure(x) && x.id === id) return x;
    stack.push(...(Array.isArray(x) ? x : Object.values(x)));
  }
  return null;
}

/** /figure/SLUG/ID: one figure of the review with its formula, source and inputs, for its provenance panel. */
export async function GET(request: Request, { params }: { params: Promise<{ slug: string; id: string }> }) {
  const { slug, id: rawId } = await params;
  const id = decodeURIComponent(rawId);
  if (!/^[a-z0-9-]{1,100}$/.test(slug) || id.length > 300) return text(404, "no such figure");
  let view;
  try {
    view = await reviewView(slug, experimentParam(Object.fromEntries(new URL(request.url).searchParams)));
  } catch (err) {
    return isNotFound(err) ? text(404, `slug: no review ${slug}`) : text(503, "the api is unreachable and no earlier copy of this review is kept");
  }
  const f = findFigure(view.data, id);
  return f ? Response.json(f) : text(404, `id: no figure ${id} in review ${slug}`);
}
