"use client";

import { useEffect } from "react";

/** A permalink "#figure=ID" opens that figure's provenance (its first place on the page) and scrolls to it. */
export function HashOpener() {
  useEffect(() => {
    const open = () => {
      const m = /^#figure=(.+)$/.exec(window.location.hash);
      if (!m) return;
      const id = decodeURIComponent(m[1]!);
      const button = [...document.querySelectorAll<HTMLElement>("[data-figure]")]
        .find((el) => el.dataset.figure === id)
        ?.querySelector<HTMLButtonElement>(":scope > button.fig");
      if (!button) return;
      if (button.getAttribute("aria-expanded") !== "true") button.click();
      button.scrollIntoView({ block: "center" });
    };
    open();
    window.addEventListener("hashchange", open);
    return () => window.removeEventListener("hashchange", open);
  }, []);
  return null;
}
