import { cycleDataset, datasets, toCsv, type Dataset } from "../../../../lib/datasets";
import { cycleDetail, isNotFound, reviewView } from "../../../../lib/last-good";
import { experimentParam } from "../../../../lib/search-params";

export const dynamic = "force-dynamic";

const text = (status: number, body: string) => new Response(body, { status, headers: { "content-type": "text/plain; charset=utf-8" } });

/** /export/SLUG/NAME.csv or .json: one table or series of the review, as the page shows it. */
export async function GET(request: Request, { params }: { params: Promise<{ slug: string; file: string }> }) {
  const { slug, file } = await params;
  const m = /^([a-z0-9-]+)\.(csv|json)$/.exec(file);
  if (!m || !/^[a-z0-9-]{1,100}$/.test(slug)) return text(404, "file: NAME.csv or NAME.json of a table on the review page");
  const [, name, format] = m;
  let view;
  try {
    view = await reviewView(slug, experimentParam(Object.fromEntries(new URL(request.url).searchParams)));
  } catch (err) {
    return isNotFound(err) ? text(404, `slug: no review ${slug}`) : text(503, "the api is unreachable and no earlier copy of this review is kept");
  }
  const all = datasets(view.data);
  let d: Dataset | undefined = all[name!];
  const cycle = /^cycle-(\d{1,9})-(\d{1,9})$/.exec(name!);
  if (cycle) {
    try {
      d = cycleDataset((await cycleDetail(view.data.subnet.netuid, Number(cycle[1]), Number(cycle[2]))).data);
    } catch (err) {
      return isNotFound(err)
        ? text(404, `file: no ingested cycle starts at block ${cycle[1]} with ${cycle[2]} blocks`)
        : text(503, "the api is unreachable and no earlier copy of this cycle is kept");
    }
  }
  if (!d) return text(404, `file: no table ${name}; tables: ${Object.keys(all).join(", ")}, cycle-FIRSTBLOCK-LENGTH`);
  const headers: Record<string, string> = { "content-disposition": `attachment; filename="${slug}-${name}.${format}"` };
  if (view.asOf) headers["x-data-as-of"] = view.asOf;
  if (format === "csv") return new Response(toCsv(d), { headers: { ...headers, "content-type": "text/csv; charset=utf-8" } });
  return Response.json(
    {
      review: slug,
      table: name,
      title: d.title,
      asOf: view.asOf,
      columns: d.columns,
      rows: d.rows.map((r) => Object.fromEntries(d.columns.map((c, i) => [c, r[i] ?? null]))),
    },
    { headers },
  );
}
