import { deserializeFigures } from "@subnet-review/core";
import type { ReviewPageData } from "../lib/review-page-data";
import { NoSuchReview } from "./no-such-review";
import { ReviewPage } from "./review-page";
import { Unavailable } from "./unavailable";

/**
 * What getServerSideProps hands the page: the data as figure wire text. Next only checks that props are JSON in
 * `next dev` (where it also sends them to the browser); in production the page runs no Next script and they stay
 * on the server.
 */
export interface ReviewPageProps {
  wire: string;
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
