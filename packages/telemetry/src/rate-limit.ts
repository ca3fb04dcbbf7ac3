/**
 * Spaces JSON-RPC calls evenly to stay under a requests-per-minute budget (public archive nodes allow ~100/min).
 * Counts calls, not round trips, because servers meter each call of a batch. `null` means unthrottled.
 */
export class RateLimiter {
  private nextAt = 0;
  private readonly intervalMs: number;

  constructor(requestsPerMinute: number | null) {
    if (requestsPerMinute !== null && !(requestsPerMinute > 0)) {
      throw new RangeError(`requestsPerMinute must be a positive number or null (unthrottled), got ${requestsPerMinute}`);
    }
    this.intervalMs = requestsPerMinute === null ? 0 : 60_000 / requestsPerMinute;
  }

  /** Resolves when `calls` more calls may be sent. */
  async acquire(calls: number): Promise<void> {
    if (this.intervalMs === 0) return;
    const now = Date.now();
    const startAt = Math.max(now, this.nextAt);
    this.nextAt = startAt + calls * this.intervalMs;
    if (startAt > now) await new Promise((resolve) => setTimeout(resolve, startAt - now));
  }
}
