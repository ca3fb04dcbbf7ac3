import { ReviewRoute } from "../../../../components/review-route";
import { cyclesParam, experimentParam, type SearchParams } from "../../../../lib/search-params";

// /r/SLUG?experiment=…, ?from=…&to=…, ?cycle=… land here (a rewrite in next.config.ts): rendered per request.
export const dynamic = "force-dynamic";

export default async function Explore({ params, searchParams }: { params: Promise<{ slug: string }>; searchParams: SearchParams }) {
  const [{ slug }, query] = await Promise.all([params, searchParams]);
  return <ReviewRoute slug={slug} experiment={experimentParam(query)} cyclesQuery={cyclesParam(query)} />;
}
