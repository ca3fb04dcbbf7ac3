import { deserializeFigures, serializeFigures } from "@subnet-review/core";
import type { ReviewPageData } from "../lib/review-page-data";
import { NoSuchReview } from "./no-such-review";
import { ReviewPage } from "./review-page";
import { Unavailable } from "./unavailable";

/**
 * What getServerSideProps hands the page: the data as figure wire text. Next only checks that props are JSON in
 * `next dev` (where it also sends them to the browser); in production the page runs no Next script and they stay
 * on the server.
 */
/** How long a page served from the last good copy may be reused before it is rendered again. */
const LAST_GOOD_MAX_AGE_SECONDS = 2;

export interface ReviewPageProps {
  wire: string;
}

/**
 * The props for `data`, and how it answers: 404 for an unknown review, 503 when nothing can be shown, and a short
 * shared lifetime for a page built from the last good copy.
 */
export function reviewPageProps(
  data: ReviewPageData,
  res: { statusCode: number; setHeader(name: string, value: string): unknown },
): { props: ReviewPageProps } {
  if (data.kind === "not-found") res.statusCode = 404;
  if (data.kind === "unavailable") res.statusCode = 503;
  // A last good copy (the api did not answer) is stale from the start: a shared cache keeps it only a moment, so the
  // web server's render cache renders it again soon even if the api comes back with unchanged data.
  if (data.kind === "review" && data.asOf) res.setHeader("Cache-Control", `public, s-maxage=${LAST_GOOD_MAX_AGE_SECONDS}`);
  return { props: { wire: JSON.stringify(serializeFigures(data)) } };
}

export function ReviewPageRoute({ wire }: ReviewPageProps) {
  const data = deserializeFigures(JSON.parse(wire)) as ReviewPageData;
  if (data.kind === "not-found") return <NoSuchReview reviews={data.reviews} />;
  if (data.kind === "unavailable") return <Unavailable />;
  return (
    <ReviewPage
      view={data.view}
      asOf={data.asOf}
      problem={data.problem}
      cycles={data.cycles}
      cyclesQuery={data.cyclesQuery}
      experiment={data.experiment ?? undefined}
    />
  );
}
