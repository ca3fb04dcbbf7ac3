import type { GetServerSideProps } from "next";
import { ReviewPageRoute, type ReviewPageProps } from "../components/review-page-route";
import { reviewPageProps } from "../lib/review-page-props";
import { loadReviewPage } from "../lib/review-page-data";

// HTML only: the browser runs the islands' script (src/islands/client.tsx), not Next's client.
export const config = { unstable_runtimeJS: false };

/** The home page: the first review the api lists, read per request (the web server caches the render). */
export const getServerSideProps: GetServerSideProps<ReviewPageProps> = async ({ query, res }) => reviewPageProps(await loadReviewPage(null, query), res);

export default ReviewPageRoute;
