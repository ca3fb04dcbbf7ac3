import { notFound } from "next/navigation";
import { ReviewPage } from "../../../components/ReviewPage";
import { Unavailable } from "../../../components/Unavailable";
import { isNotFound, reviewView } from "../../../lib/lastGood";
import { cyclesParam, experimentParam, type SearchParams } from "../../../lib/searchParams";

export const dynamic = "force-dynamic";

export default async function Review({ params, searchParams }: { params: Promise<{ slug: string }>; searchParams: SearchParams }) {
  const { slug } = await params;
  const query = await searchParams;
  const experiment = experimentParam(query);
  let view;
  try {
    view = await reviewView(slug, experiment);
  } catch (err) {
    // bad slug text and unknown slugs both answer 404 with the list of reviews
    if (isNotFound(err) || (err as { data?: { code?: string } }).data?.code === "BAD_REQUEST") notFound();
    return <Unavailable error={err} />;
  }
  return <ReviewPage view={view.data} asOf={view.asOf} problem={view.problem} cyclesQuery={cyclesParam(query)} experiment={experiment} />;
}
