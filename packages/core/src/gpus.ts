/** GPUs a reviewer is likely to own or rent. Memory in decimal GB as sold. */
export interface GpuSpec {
  id: string;
  name: string;
  memoryGB: number;
}

export const gpuCatalog: readonly GpuSpec[] = [
  { id: "rtx-4090", name: "RTX 4090", memoryGB: 24 },
  { id: "rtx-a6000", name: "RTX A6000", memoryGB: 48 },
  { id: "l40s", name: "L40S", memoryGB: 48 },
  { id: "a100-40gb", name: "A100 40GB", memoryGB: 40 },
  { id: "a100-80gb", name: "A100 80GB", memoryGB: 80 },
  { id: "h100-80gb", name: "H100 80GB", memoryGB: 80 },
  { id: "h200", name: "H200 141GB", memoryGB: 141 },
];

const models: Record<string, string[]> = {
  "rtx-4090": ["rtx4090", "4090", "geforcertx4090"],
  "rtx-a6000": ["rtxa6000", "a6000"],
  l40s: ["l40s"],
  "a100-40gb": ["a100"],
  "a100-80gb": ["a100"],
  "h100-80gb": ["h100", "h100sxm", "h100sxm5", "h100pcie"],
  h200: ["h200", "h200sxm"],
};

function norm(s: string): string {
  return s
    .toLowerCase()
    .replace(/[\s_\-.]+/g, "")
    .replace(/^nvidia/, "");
}

/**
 * Find a GPU by name, ignoring case, spaces, dashes and an "NVIDIA" prefix: "h100", "H100 80GB",
 * "a6000", "nvidia-l40s", "A100 40GB". A memory suffix ("80gb", "80g", "80") must match the GPU's.
 * Returns undefined for an unknown name, and for "A100" alone (40 and 80 GB both exist).
 */
export function findGpu(name: string): GpuSpec | undefined {
  if (typeof name !== "string") return undefined;
  const q = norm(name);
  if (!q) return undefined;
  const hits = gpuCatalog.filter((g) => {
    if (g.id === q || norm(g.name) === q) return true;
    return (models[g.id] ?? []).some((base) => {
      if (q === base) return true;
      const mem = String(g.memoryGB);
      return q === `${base}${mem}gb` || q === `${base}${mem}g` || q === `${base}${mem}`;
    });
  });
  return hits.length === 1 ? hits[0] : undefined;
}

/** Why findGpu failed, for error messages. */
export function gpuLookupHint(name: string): string {
  const q = norm(String(name));
  const ambiguous = gpuCatalog.filter((g) => (models[g.id] ?? []).includes(q));
  const names = gpuCatalog.map((g) => g.name).join(", ");
  return ambiguous.length > 1 ? `is ambiguous: say ${ambiguous.map((g) => g.name).join(" or ")}` : `must be one of ${names}; got ${JSON.stringify(name)}`;
}
