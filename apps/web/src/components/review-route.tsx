import { notFound } from "next/navigation";
import { isNotFound, reviewView } from "../lib/last-good";
import type { CyclesQuery } from "../lib/search-params";
import { ReviewPage } from "./review-page";
import { Unavailable } from "./unavailable";

/** A review by slug: 404 (listing the reviews) when there is none, the last good copy when the api is down. */
export async function ReviewRoute({ slug, experiment, cyclesQuery }: { slug: string; experiment?: string | undefined; cyclesQuery?: CyclesQuery }) {
  let view;
  try {
    view = await reviewView(slug, experiment);
  } catch (err) {
    // bad slug text and unknown slugs both answer 404 with the list of reviews
    if (isNotFound(err) || (err as { data?: { code?: string } }).data?.code === "BAD_REQUEST") notFound();
    return <Unavailable error={err} />;
  }
  return (
    <ReviewPage view={view.data} asOf={view.asOf} problem={view.problem} cyclesQuery={cyclesQuery ?? { range: null, cycle: null }} experiment={experiment} />
  );
}
