import type { GetServerSideProps } from "next";
import { ReviewPageRoute, type ReviewPageProps } from "../../components/review-page-route";
import { reviewPageProps } from "../../lib/review-page-props";
import { loadReviewPage } from "../../lib/review-page-data";

// HTML only: the browser runs the islands' script (src/islands/client.tsx), not Next's client.
export const config = { unstable_runtimeJS: false };

/** A review by slug; ?experiment=, ?from=&to= and ?cycle= choose what it shows. Read per request (the web server caches the render). */
export const getServerSideProps: GetServerSideProps<ReviewPageProps, { slug: string }> = async ({ params, query, res }) =>
  reviewPageProps(await loadReviewPage(params!.slug, query), res);

export default ReviewPageRoute;
