// What an anonymous reader gets: the same data without machine paths (model, data and tokenizer directories,
// eval samples files) or raw error text, which can name hosts, users and source files. Token holders see it all.

/** A run's error as the public sees it. */
export const HIDDEN_ERROR = "failed (the error text is shown to API token holders)";

/** Keys whose values are always file locations: the public sees the last path segment at most. */
const pathKeys = new Set(["data", "tokenizer", "python", "out", "dataDir", "outDir", "checkpointDir", "adapter"]);
/** Keys whose values are removed for the public. */
const hiddenKeys = new Set(["samplesPath"]);

// An absolute path of two or more segments, or one starting with ~, . or .. (not a URL's //host, not "tokens/s").
const pathPattern = /(?<![\w:/.~-])(?:(?:~|\.{1,2})(?:\/[\w.@+=-]+)+|(?:\/[\w.@+=-]+){2,})\/?/g;

const lastSegment = (path: string) => path.replace(/\/+$/, "").split("/").pop() ?? "";

/** The text with each file path in it reduced to its last segment ("/srv/models/DeepSeek-V2-Lite" -> "DeepSeek-V2-Lite"). */
export function withoutPaths(text: string): string {
  return text.replace(pathPattern, lastSegment);
}

/**
 * A copy of a procedure's output fit for anonymous readers. Shared objects stay shared (figures are sent once per
 * distinct object), so the copy weighs what the original does on the wire.
 */
export function publicView<T>(value: T): T {
  if (typeof value !== "object" || value === null) return walkPublic(value);
  // A cached review view is answered many times over: its public copy is made once (both are never mutated).
  let copy = publicCopies.get(value);
  if (copy === undefined) publicCopies.set(value, (copy = walkPublic(value)));
  return copy as T;
}

const publicCopies = new WeakMap<object, unknown>();

function walkPublic<T>(value: T): T {
  const copies = new Map<object, unknown>();
  const walk = (x: unknown, key: string | null): unknown => {
    if (typeof x === "string") {
      if (key !== null && hiddenKeys.has(key)) return null;
      if (key === "error") return HIDDEN_ERROR;
      return key !== null && pathKeys.has(key) ? lastSegment(x) : withoutPaths(x);
    }
    if (key !== null && hiddenKeys.has(key)) return null;
    if (typeof x !== "object" || x === null || x instanceof Date) return x;
    const known = copies.get(x);
    if (known !== undefined) return known;
    if (Array.isArray(x)) {
      const out: unknown[] = [];
      copies.set(x, out);
      for (const v of x) out.push(walk(v, null));
      return out;
    }
    const out: Record<string, unknown> = {};
    copies.set(x, out);
    // defineProperty: a key named "__proto__" stays a key.
    for (const [k, v] of Object.entries(x)) Object.defineProperty(out, k, { value: walk(v, k), enumerable: true, writable: true, configurable: true });
    return out;
  };
  return walk(value, null) as T;
}
