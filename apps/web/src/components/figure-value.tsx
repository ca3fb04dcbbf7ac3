import { formatFigure, type Figure } from "@subnet-review/core";
import { kindOf } from "../lib/kind";
import { Island } from "./island";

export { KindBadge } from "./kind-badge";

/**
 * A review figure on the page: rendered on the server to its text and kind; only its id travels to the browser,
 * which fetches the formula and inputs when the reader opens it. `decimals` fixes the digits where a column must
 * read alike.
 */
export function FigureValue({ figure, showKind = false, decimals }: { figure: Figure; showKind?: boolean; decimals?: number }) {
  const figureRef = { id: figure.id, text: formatFigure(figure, decimals === undefined ? {} : { decimals }), kind: kindOf(figure) };
  return <Island name="figure" props={{ figureRef, showKind }} />;
}
