/**
 * Memoizes a pure function of a string key, forgetting everything once `limit` entries are held so memory stays
 * bounded. Hotkeys and their storage keys repeat from cycle to cycle; hashing and base58 are not cheap.
 */
export function boundedMemo<T>(fn: (key: string) => T, limit = 20_000): (key: string) => T {
  const cache = new Map<string, T>();
  return (key) => {
    let value = cache.get(key);
    if (value === undefined) {
      value = fn(key);
      if (cache.size >= limit) cache.clear();
      cache.set(key, value);
    }
    return value;
  };
}
