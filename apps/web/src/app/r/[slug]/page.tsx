import { TRPCClientError } from "@trpc/client";
import { notFound } from "next/navigation";
import { ReviewPage } from "../../../components/ReviewPage";
import { api } from "../../../lib/api";

export const dynamic = "force-dynamic";

export default async function Review({ params }: { params: Promise<{ slug: string }> }) {
  const { slug } = await params;
  try {
    return <ReviewPage view={await api().review.bySlug.query({ slug })} />;
  } catch (err) {
    if (err instanceof TRPCClientError && (err.data as { code?: string } | undefined)?.code === "NOT_FOUND") notFound();
    throw err;
  }
}
