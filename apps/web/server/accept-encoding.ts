export type Encoding = "br" | "gzip" | "identity";

/**
 * The body coding to answer with for an Accept-Encoding header (RFC 9110 §12.5.3): brotli or gzip when the client
 * accepts it (the higher q wins, brotli on a tie; `*` stands for any coding not named), else identity.
 */
export function preferredEncoding(header: string | string[] | undefined): Encoding {
  if (!header) return "identity";
  const q = new Map<string, number>();
  for (const part of (Array.isArray(header) ? header.join(",") : header).split(",")) {
    const [name, ...params] = part.split(";");
    const coding = name!.trim().toLowerCase();
    if (!coding) continue;
    const qParam = params.map((p) => p.trim().toLowerCase()).find((p) => p.startsWith("q="));
    const value = qParam === undefined ? 1 : Number(qParam.slice(2));
    q.set(coding === "x-gzip" ? "gzip" : coding, Number.isFinite(value) ? value : 0);
  }
  const of = (coding: string) => q.get(coding) ?? q.get("*") ?? 0;
  const br = of("br");
  const gzip = of("gzip");
  if (br > 0 && br >= gzip) return "br";
  if (gzip > 0) return "gzip";
  return "identity";
}
