/** A section's eyebrow and title as the published review has them, with a permalink to the section. */
export function SectionHeading({ id, number, title, eyebrow = "Metric" }: { id: string; number: string; title: string; eyebrow?: string }) {
  return (
    <>
      <div className="eyebrow">
        § {number} · {eyebrow}
      </div>
      <h2 id={`${id}-h`}>
        {title}{" "}
        <a className="anchor" href={`#${id}`} aria-label={`Link to section ${number}, ${title}`}>
          #
        </a>
      </h2>
    </>
  );
}
