"use client";

import { createContext, type ReactNode } from "react";

/** Which review (and experiment) the page shows: where a figure's provenance is fetched from when it opens. */
export const ReviewScopeContext = createContext<{ slug: string; experiment: string | undefined } | null>(null);

export function ReviewScope({ slug, experiment, children }: { slug: string; experiment: string | undefined; children: ReactNode }) {
  return <ReviewScopeContext.Provider value={{ slug, experiment }}>{children}</ReviewScopeContext.Provider>;
}
