/** CSV and JSON links for one table or series (served by /export/SLUG/NAME.csv|json). */
export function ExportLinks({ slug, name, experiment }: { slug: string; name: string; experiment?: string | null | undefined }) {
  const q = experiment ? `?experiment=${encodeURIComponent(experiment)}` : "";
  return (
    <p className="export" data-export={name}>
      Download: <a href={`/export/${slug}/${name}.csv${q}`}>CSV</a> · <a href={`/export/${slug}/${name}.json${q}`}>JSON</a>
    </p>
  );
}
