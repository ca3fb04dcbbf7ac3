/** Arithmetic mean; NaN for an empty list. */
export function mean(xs: readonly number[]): number {
  let s = 0;
  for (const x of xs) s += x;
  return s / xs.length;
}

/** The harness's `mean_stderr`: sample standard deviation (n - 1) / sqrt(n). NaN when n < 2. */
export function meanStderr(xs: readonly number[]): number {
  const n = xs.length;
  if (n < 2) return Number.NaN;
  const mu = mean(xs);
  let ss = 0;
  for (const x of xs) ss += (x - mu) ** 2;
  return Math.sqrt(ss / (n - 1)) / Math.sqrt(n);
}

/**
 * The harness's `pooled_sample_stderr`, used for a group (e.g. mmlu over its 57 subjects) weighted by size:
 * sqrt( sum((n_i - 1) * se_i^2 * n_i) / (sum n_i - k) / sum n_i ).
 */
export function pooledSampleStderr(stderrs: readonly number[], sizes: readonly number[]): number {
  if (stderrs.length !== sizes.length) throw new Error("pooledSampleStderr: stderrs and sizes differ in length");
  let num = 0;
  let total = 0;
  for (let i = 0; i < sizes.length; i++) {
    const n = sizes[i]!;
    num += (n - 1) * stderrs[i]! ** 2 * n;
    total += n;
  }
  return Math.sqrt(num / (total - sizes.length) / total);
}
