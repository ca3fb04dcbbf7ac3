"use client";

import { useEffect, useRef, useState, type ComponentType } from "react";
import type { Calculator as CalculatorType } from "./calculator";
import { SectionHeading } from "./section-heading";

type Props = Parameters<typeof CalculatorType>[0];

/**
 * The calculator brings core and zod to the browser (~44 kB gzip), so it loads when the reader comes near it (or
 * arrives with calculator inputs in the URL), not with the page.
 */
export function LazyCalculator(props: Props) {
  const [Loaded, setLoaded] = useState<ComponentType<Props> | null>(null);
  const placeholder = useRef<HTMLElement>(null);
  useEffect(() => {
    let cancelled = false;
    const load = () => void import("./calculator").then((m) => !cancelled && setLoaded(() => m.Calculator));
    const q = new URLSearchParams(window.location.search);
    if (window.location.hash === "#calculator" || ["k", "n", "gpu", "mb", "seq", "ckpt", "config"].some((k) => q.has(k))) {
      load();
      return () => void (cancelled = true);
    }
    const observer = new IntersectionObserver(
      (entries) => {
        if (entries.some((e) => e.isIntersecting)) {
          observer.disconnect();
          load();
        }
      },
      { rootMargin: "800px 0px" },
    );
    if (placeholder.current) observer.observe(placeholder.current);
    return () => {
      cancelled = true;
      observer.disconnect();
    };
  }, []);
  if (Loaded) return <Loaded {...props} />;
  return (
    <section className="review calc" id="calculator" aria-labelledby="calculator-h" ref={placeholder}>
      <SectionHeading id="calculator" number="05" title="Shard & memory calculator" eyebrow="Beyond the published page" />
      <p className="note">The calculator loads as you reach it: it recomputes every figure in your browser with the same core that computes the review.</p>
    </section>
  );
}
