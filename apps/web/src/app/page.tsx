import { notFound } from "next/navigation";
import { ReviewPage } from "../components/ReviewPage";
import { api } from "../lib/api";

// Rendered per request from the API: the review changes as runs and chain data arrive.
export const dynamic = "force-dynamic";

export default async function Home() {
  const reviews = await api().review.list.query();
  const first = reviews[0];
  if (!first) notFound();
  return <ReviewPage view={await api().review.bySlug.query({ slug: first.slug })} />;
}
