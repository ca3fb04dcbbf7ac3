export interface CachedResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

/**
 * Public read responses, kept `ttlMs` and shared by concurrent requests for the same URL. Reads are public and the
 * review page asks the same queries on every view, so a hit is answered with stored bytes (no query, no view
 * building, no serialisation). Any write in this process clears it; other replicas see a write after `ttlMs`.
 */
export class ResponseCache {
  private readonly entries = new Map<string, { response: Promise<CachedResponse>; expires: number }>();
  constructor(private readonly ttlMs: number) {}

  get(key: string, produce: () => Promise<CachedResponse>): Promise<CachedResponse> {
    const now = Date.now();
    const hit = this.entries.get(key);
    if (hit && hit.expires > now) return hit.response;
    const response = produce();
    this.entries.set(key, { response, expires: now + this.ttlMs });
    // Only successes are kept: an error is answered once and asked again next time.
    response.then(
      (r) => r.status !== 200 && this.entries.delete(key),
      () => this.entries.delete(key),
    );
    return response;
  }

  clear(): void {
    this.entries.clear();
  }
}

export const publicResponses = new ResponseCache(2_000);
