import { serializeFigures } from "@subnet-review/core";
import type { ReviewPageProps } from "../components/review-page-route";
import { themeScriptHash } from "./page-scripts";
import type { ReviewPageData } from "./review-page-data";
import { contentSecurityPolicy } from "./security-headers";

/** How long a page served from the last good copy may be reused before it is rendered again. */
const LAST_GOOD_MAX_AGE_SECONDS = 2;

/**
 * The review page's props for `data` (getServerSideProps only: Next keeps this module out of the browser build),
 * and how it answers: 404 for an unknown review, 503 when nothing can be shown.
 */
export function reviewPageProps(
  data: ReviewPageData,
  res: { statusCode: number; setHeader(name: string, value: string): unknown },
): { props: ReviewPageProps } {
  if (data.kind === "not-found") res.statusCode = 404;
  if (data.kind === "unavailable") res.statusCode = 503;
  // The page runs no inline script but the theme's (Next's own are off), so its policy allows that one alone.
  if (process.env.NODE_ENV === "production") res.setHeader("Content-Security-Policy", contentSecurityPolicy([themeScriptHash]));
  // A last good copy (the api did not answer) is stale from the start: a shared cache keeps it only a moment, so the
  // web server's render cache renders it again soon even if the api comes back with unchanged data.
  if (data.kind === "review" && data.asOf) res.setHeader("Cache-Control", `public, s-maxage=${LAST_GOOD_MAX_AGE_SECONDS}`);
  return { props: { wire: JSON.stringify(serializeFigures(data)) } };
}
