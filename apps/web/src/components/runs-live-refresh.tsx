"use client";

import { useEffect } from "react";
import { pageSections, servedSections } from "../islands/served-sections";

/**
 * While a run is training, asks the server for the page every few seconds and replaces each section whose HTML
 * changed (its loss curve fills in); sections that did not change keep their state (an open formula, the
 * calculator's inputs). The new sections' islands are hydrated by src/islands/client.tsx on "islands:replaced".
 * Under `next dev`, where Next hydrates the whole page, it reloads the page instead.
 */
export function RunsLiveRefresh({ everyMs }: { everyMs: number }) {
  useEffect(() => {
    const timer = setInterval(async () => {
      if (document.getElementById("__NEXT_DATA__")) return window.location.reload();
      const html = await fetch(window.location.href, { cache: "no-store" }).then(
        (r) => (r.ok ? r.text() : null),
        () => null,
      );
      if (!html) return; // the next tick tries again
      for (const fresh of pageSections(new DOMParser().parseFromString(html, "text/html"))) {
        const current = document.getElementById(fresh.id);
        if (!current || servedSections.get(fresh.id) === fresh.outerHTML) continue;
        servedSections.set(fresh.id, fresh.outerHTML);
        const adopted = document.importNode(fresh, true);
        current.replaceWith(adopted);
        adopted.dispatchEvent(new Event("islands:replaced", { bubbles: true }));
      }
    }, everyMs);
    return () => clearInterval(timer);
  }, [everyMs]);
  return null;
}
