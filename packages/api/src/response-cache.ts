export interface CachedResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

interface Entry {
  response: Promise<CachedResponse>;
  expires: number;
  /** Bytes held once the response is in (0 while it is being produced). */
  bytes: number;
}

/** Every live cache in this process, so a write clears them all (tests and tools write beside the server too). */
const liveCaches = new Set<ResponseCache>();

export function clearAllResponseCaches(): void {
  for (const cache of liveCaches) cache.clear();
}

/**
 * Public read responses, kept `ttlMs` and shared by concurrent requests for the same key, at most `maxBytes` of
 * bodies and keys (least recently used go first). Reads are public and the review page asks the same queries on
 * every view, so a hit is answered with stored bytes (no query, no view building, no serialisation). A write in this
 * process clears it, and so does a notified write of another process (server.ts); without notifications, other
 * processes' writes show after `ttlMs`.
 */
export class ResponseCache {
  // A Map iterates in insertion order: re-inserting on a hit keeps the least recently used first.
  private readonly entries = new Map<string, Entry>();
  private bytes = 0;
  /** Bumped by clear(): a response produced before a write is not stored after it. */
  private generation = 0;

  constructor(
    private readonly ttlMs: number,
    readonly maxBytes: number,
  ) {
    liveCaches.add(this);
  }

  get size(): { entries: number; bytes: number } {
    return { entries: this.entries.size, bytes: this.bytes };
  }

  get(key: string, produce: () => Promise<CachedResponse>): Promise<CachedResponse> {
    const now = Date.now();
    const hit = this.entries.get(key);
    if (hit) {
      this.remove(key, hit);
      if (hit.expires > now) {
        this.entries.set(key, hit);
        this.bytes += hit.bytes;
        return hit.response;
      }
    }
    const generation = this.generation;
    const response = produce();
    const entry: Entry = { response, expires: now + this.ttlMs, bytes: 0 };
    this.entries.set(key, entry);
    // Only successes are kept: an error is answered once and asked again next time.
    response.then(
      (r) => {
        if (this.entries.get(key) !== entry) return;
        const bytes = r.body.length + key.length * 2 + 256;
        if (r.status !== 200 || generation !== this.generation || bytes > this.maxBytes) return this.remove(key, entry);
        entry.bytes = bytes;
        this.bytes += bytes;
        this.evict();
      },
      () => this.entries.get(key) === entry && this.remove(key, entry),
    );
    return response;
  }

  clear(): void {
    this.entries.clear();
    this.bytes = 0;
    this.generation++;
  }

  /** Stops counting this cache among the live ones (its server closed). */
  close(): void {
    this.clear();
    liveCaches.delete(this);
  }

  private remove(key: string, entry: Entry): void {
    this.entries.delete(key);
    this.bytes -= entry.bytes;
  }

  private evict(): void {
    const now = Date.now();
    for (const [key, entry] of this.entries) {
      if (this.bytes <= this.maxBytes) break;
      if (entry.bytes > 0 || entry.expires <= now) this.remove(key, entry);
    }
  }
}
