// The one retry policy of the clients (JSON-RPC nodes, OpenAI-compatible servers, the api uploader): exponential
// backoff with full jitter under a cap, and a server's Retry-After when it asks for longer.

export interface BackoffOptions {
  /** the ceiling of the first retry's delay; it doubles with each attempt */
  baseMs: number;
  /** the most any ceiling grows to */
  maxMs: number;
}

/**
 * The delay before retry `attempt` (0 for the first): uniform in [ceiling / 2, ceiling], ceiling =
 * min(maxMs, baseMs · 2^attempt), so clients that failed together do not retry together; at least `retryAfterMs`.
 */
export function backoffDelayMs(attempt: number, options: BackoffOptions, retryAfterMs?: number, random: () => number = Math.random): number {
  const ceiling = Math.min(options.maxMs, options.baseMs * 2 ** attempt);
  const jittered = ceiling / 2 + random() * (ceiling / 2);
  return Math.max(jittered, retryAfterMs ?? 0);
}

/** An HTTP Retry-After header (seconds or an HTTP date) in milliseconds from `now`; undefined when absent or unreadable. */
export function retryAfterMs(header: string | null | undefined, now = Date.now()): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
