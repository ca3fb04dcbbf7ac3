// The one duration formatter: progress ETAs ("2m00s") and the review's wallclocks ("3h 07m").

const pad2 = (n: number) => String(n).padStart(2, "0");

/**
 * A duration in seconds as text, rounded once to the precision before it is split, so a carry is never lost
 * (119.5 s is "2m00s", not "1m60s"; 59.5 min is "1h 00m", not "0h 60m").
 * - "second" (default): "45s", "2m00s", "1h02m" (hours with minutes, seconds dropped): progress lines.
 * - "minute": "0h 45m", "3h 07m", always hours and minutes: the review's wallclocks.
 * A negative or non-finite duration (an ETA not known yet) is "?".
 */
export function formatDuration(seconds: number, precision: "second" | "minute" = "second"): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "?";
  if (precision === "minute") {
    const minutes = Math.round(seconds / 60);
    return `${Math.floor(minutes / 60)}h ${pad2(minutes % 60)}m`;
  }
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h ? `${h}h${pad2(m)}m` : m ? `${m}m${pad2(s % 60)}s` : `${s}s`;
}
