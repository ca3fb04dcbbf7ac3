// The page's only script in production: hydrates each [data-island] element with its registered component. The
// server rendered everything else to HTML, and that HTML stays as it is.
import type { ComponentType } from "react";
import { hydrateRoot, type Root } from "react-dom/client";
import { ReviewScope } from "../components/review-scope";
import { type IslandName, islands } from "./registry";
import { recordServedSections } from "./served-sections";

const roots = new Map<Element, Root>();

function hydrateIslands(within: ParentNode): void {
  const main = document.querySelector<HTMLElement>("main[data-slug]");
  const scope = { slug: main?.dataset.slug ?? "", experiment: main?.dataset.experiment || undefined };
  for (const el of within.querySelectorAll<HTMLElement>("[data-island]")) {
    if (roots.has(el)) continue;
    const Component = islands[el.dataset.island as IslandName] as ComponentType<object> | undefined;
    if (!Component) continue;
    const props = JSON.parse(el.dataset.props ?? "{}") as object;
    roots.set(
      el,
      hydrateRoot(
        el,
        <ReviewScope slug={scope.slug} experiment={scope.experiment}>
          <Component {...props} />
        </ReviewScope>,
        // useId values unique across the page's many roots
        { identifierPrefix: `i${roots.size}-` },
      ),
    );
  }
}

/** Islands whose element left the page (a section replaced by a live refresh) are unmounted, stopping their timers. */
function unmountDetached(): void {
  for (const [el, root] of roots) {
    if (el.isConnected) continue;
    root.unmount();
    roots.delete(el);
  }
}

// A live refresh replaces sections and announces the new ones (see runs-live-refresh.tsx).
document.addEventListener("islands:replaced", (e) => {
  unmountDetached();
  hydrateIslands(e.target instanceof Element ? e.target : document);
});
recordServedSections(document);
hydrateIslands(document);
