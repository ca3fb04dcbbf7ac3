import { NoSuchReview } from "../components/no-such-review";
import { reviewList } from "../lib/last-good";

/** Any address no page or route answers: the same 404 as an unknown review's. */
export default async function NotFound() {
  return <NoSuchReview reviews={(await reviewList().catch(() => null))?.data ?? null} />;
}
