"use client";

import { useRouter } from "next/navigation";
import { useEffect } from "react";

/** While a run is training, re-renders the page from the API every few seconds so its loss curve fills in. */
export function RunsLiveRefresh({ everyMs }: { everyMs: number }) {
  const router = useRouter();
  useEffect(() => {
    const timer = setInterval(() => router.refresh(), everyMs);
    return () => clearInterval(timer);
  }, [router, everyMs]);
  return null;
}
