import type { IncomingMessage, ServerResponse } from "node:http";
import { preferredEncoding } from "./accept-encoding.ts";
import { type CachedPage, cachedPage, notCacheable, type Rendered, sendPage, varyAllows } from "./cached-page.ts";
import type { DataVersionPoller, Version } from "./data-version.ts";

/** The cache's key for a request it may answer: exactly `/` or `/r/<slug>`, GET or HEAD, no query; else null. */
export function cacheKey(req: IncomingMessage): string | null {
  if (req.method !== "GET" && req.method !== "HEAD") return null;
  const url = req.url ?? "";
  // a query picks an experiment or cycles: such a page is rendered per request
  return url === "/" || /^\/r\/[^/?#]+$/.test(url) ? url : null;
}

export interface RenderCacheOptions {
  /** Bytes of pages kept (all their codings); the least recently answered go first. */
  maxBytes: number;
  /** Renders a path past this cache (Next, over loopback). */
  render(path: string): Promise<Rendered>;
  versions: DataVersionPoller;
  /** A failed re-render is tried again after this long (the old page is served meanwhile). */
  retryMs: number;
  log(line: string): void;
}

type Outcome = { page: CachedPage } | { gone: true } | { kept: string };

/**
 * Rendered pages of `/` and `/r/<slug>`, answered without Next. A page is rendered by Next on its first request
 * (concurrent requests share the render) and kept while it is the last render of its path: when the api's data
 * version differs from the one read before the render (asked at most every few seconds, on request), or the api
 * stops or starts answering, or Next's answer said its own copy expires (s-maxage), it is rendered again in the
 * background while the old copy is served (stale). Only 200s are kept; a 404 or 410 on re-render drops the page.
 */
export class RenderCache {
  private readonly pages = new Map<string, CachedPage>();
  private bytes = 0;
  /** Renders in flight by key, first fills and re-renders alike, so one path is never rendered twice at once. */
  private readonly renders = new Map<string, Promise<CachedPage | null>>();
  private readonly retryAt = new Map<string, number>();

  constructor(private readonly opts: RenderCacheOptions) {}

  get size(): { pages: number; bytes: number } {
    return { pages: this.pages.size, bytes: this.bytes };
  }

  /** Answers the request from the cache (rendering it first on a miss); false when Next must answer it instead. */
  async answer(key: string, req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    let page = this.pages.get(key);
    let state: "hit" | "miss" | "stale";
    if (page) {
      // least recently answered first: move to the end
      this.pages.delete(key);
      this.pages.set(key, page);
      this.opts.versions.poll()?.then((version) => this.refreshIfBehind(key, version));
      const latest = this.opts.versions.latest;
      if (latest !== undefined) this.refreshIfBehind(key, latest);
      const expired = Date.now() >= page.expiresAt;
      if (expired) this.refreshIfBehind(key, page.version);
      state = expired || (latest !== undefined && page.version !== latest) ? "stale" : "hit";
    } else {
      page = (await this.render(key)) ?? undefined;
      if (!page) return false;
      state = "miss";
    }
    if (!varyAllows(page, req.headers)) return false;
    sendPage(res, page, preferredEncoding(req.headers["accept-encoding"]), state, req.method === "HEAD");
    return true;
  }

  private refreshIfBehind(key: string, version: Version): void {
    const page = this.pages.get(key);
    const now = Date.now();
    if (!page || (page.version === version && now < page.expiresAt) || this.renders.has(key) || now < (this.retryAt.get(key) ?? 0)) return;
    void this.render(key);
  }

  /** The render in flight for `key`, or a new one: the page, stored; null when it is not kept. */
  private render(key: string): Promise<CachedPage | null> {
    let running = this.renders.get(key);
    if (!running) {
      running = this.renderOnce(key).finally(() => this.renders.delete(key));
      this.renders.set(key, running);
    }
    return running;
  }

  private async renderOnce(key: string): Promise<CachedPage | null> {
    // Any version read before the render is one the page is at least as new as (an older one only costs a re-render).
    const known = this.opts.versions.latest;
    const version = known !== undefined ? known : await this.opts.versions.current();
    let outcome: Outcome;
    try {
      outcome = await this.outcome(key, version);
    } catch (err) {
      outcome = { kept: (err as Error).message };
    }
    if ("page" in outcome) {
      this.retryAt.delete(key);
      this.store(key, outcome.page);
      return outcome.page;
    }
    if ("gone" in outcome) {
      this.remove(key);
      return null;
    }
    if (this.pages.has(key)) {
      this.retryAt.set(key, Date.now() + this.opts.retryMs);
      this.opts.log(`web: render cache: ${key} not re-rendered (${outcome.kept}); serving the copy rendered before`);
    }
    return null;
  }

  private async outcome(key: string, version: Version): Promise<Outcome> {
    const rendered = await this.opts.render(key);
    if (rendered.status === 404 || rendered.status === 410) return { gone: true };
    const why = notCacheable(rendered);
    return why ? { kept: why } : { page: await cachedPage(rendered, version) };
  }

  private store(key: string, page: CachedPage): void {
    this.remove(key);
    if (page.bytes > this.opts.maxBytes) return;
    this.pages.set(key, page);
    this.bytes += page.bytes;
    for (const [oldest, old] of this.pages) {
      if (this.bytes <= this.opts.maxBytes) break;
      this.pages.delete(oldest);
      this.bytes -= old.bytes;
    }
  }

  private remove(key: string): void {
    const page = this.pages.get(key);
    if (!page) return;
    this.pages.delete(key);
    this.bytes -= page.bytes;
  }
}
