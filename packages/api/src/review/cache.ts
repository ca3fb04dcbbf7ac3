/**
 * A short-lived cache of built review views. Building a view runs core over the model config and reads a
 * review's rows; the page asks for the same view on every request. Writes in this process clear it at once;
 * other replicas see a write after at most `ttlMs`.
 */
export class ViewCache<V> {
  private readonly entries = new Map<string, { value: Promise<V>; expires: number }>();
  constructor(private readonly ttlMs: number) {}

  get(key: string, build: () => Promise<V>): Promise<V> {
    const now = Date.now();
    const hit = this.entries.get(key);
    if (hit && hit.expires > now) return hit.value;
    const value = build();
    this.entries.set(key, { value, expires: now + this.ttlMs });
    // A failed build is not cached.
    value.catch(() => this.entries.delete(key));
    return value;
  }

  clear(): void {
    this.entries.clear();
  }
}
