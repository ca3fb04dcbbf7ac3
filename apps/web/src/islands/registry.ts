import { FigureButton } from "../components/figure-button";
import { HashOpener } from "../components/hash-opener";
import { LazyCalculator } from "../components/lazy-calculator";
import { RunsLiveRefresh } from "../components/runs-live-refresh";
import { ThemeToggle } from "../components/theme-toggle";

/**
 * The page's interactive parts, by the name the server writes into the HTML (data-island). Only these are
 * hydrated in the browser: the rest of the page is HTML, so the browser loads React and these components, not a
 * framework that re-renders the whole page.
 */
export const islands = {
  figure: FigureButton,
  "hash-opener": HashOpener,
  calculator: LazyCalculator,
  "live-refresh": RunsLiveRefresh,
  "theme-toggle": ThemeToggle,
} as const;

export type IslandName = keyof typeof islands;
