import { ReviewRoute } from "../../../components/review-route";

// The review as most readers see it (no experiment or cycles chosen) is rendered once and served from Next's cache,
// re-rendered in the background at most every REVALIDATE_SECONDS, so new runs and cycles appear within that time.
// A URL that chooses an experiment or cycles is rewritten to ./explore (next.config.ts), rendered per request.
export const revalidate = 5;

/** No review is rendered at build time (the api is not there then): each is rendered on its first request. */
export function generateStaticParams(): { slug: string }[] {
  return [];
}

export default async function Review({ params }: { params: Promise<{ slug: string }> }) {
  const { slug } = await params;
  return <ReviewRoute slug={slug} />;
}
