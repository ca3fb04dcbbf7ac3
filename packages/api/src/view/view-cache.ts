import type { Db } from "@subnet-review/db";
import { dataVersionOf } from "./data-version.ts";
import { loadReviewView, type ReviewView } from "./view.ts";

/** Views kept per database client (slug × experiment); the least recently asked go first. */
const MAX_VIEWS = 16;

interface Built {
  version: string;
  view: Promise<ReviewView | null>;
}

const caches = new WeakMap<Db, Map<string, Built>>();

/**
 * A review's view, built once per data version: a read checks the version (no query while writes are notified,
 * else one shared query; see data-version.ts) and answers the view built at that version, or builds it anew.
 * Building reads a dozen tables; the check reads none. Concurrent reads at one version share one build. The same
 * view object is answered every time, so what is derived from it (the public view, its wire form and JSON bytes)
 * is kept beside it.
 */
export async function cachedReviewView(db: Db, slug: string, experiment?: string): Promise<ReviewView | null> {
  let views = caches.get(db);
  if (!views) caches.set(db, (views = new Map()));
  const key = `${slug}\n${experiment ?? ""}`;
  const version = await dataVersionOf(db).current();
  const known = views.get(key);
  views.delete(key);
  if (known && known.version === version) {
    views.set(key, known);
    return known.view;
  }
  // Read after the version: the data is at least that new, so it is current while the version stays.
  const built: Built = { version, view: loadReviewView(db, slug, experiment) };
  views.set(key, built);
  if (views.size > MAX_VIEWS) views.delete(views.keys().next().value!);
  built.view.catch(() => views.get(key) === built && views.delete(key));
  return built.view;
}
