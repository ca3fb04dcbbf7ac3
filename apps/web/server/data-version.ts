import { deserializeFigures } from "@subnet-review/core";
import { z } from "zod";

/** The api's data version, or null while the api does not answer (a page rendered then shows its last good copy). */
export type Version = string | null;

// review.dataVersion as tRPC answers a GET: { result: { data } }, data written by core's figureTransformer.
const answerSchema = z.object({ result: z.object({ data: z.unknown() }) });
const versionSchema = z.object({ version: z.string().min(1) });

/** Asks the api at `apiUrl` for its data version; null when it does not answer in `timeoutMs` or answers otherwise. */
export async function fetchDataVersion(apiUrl: string, timeoutMs: number): Promise<Version> {
  try {
    const res = await fetch(`${apiUrl}/trpc/review.dataVersion`, { signal: AbortSignal.timeout(timeoutMs) });
    if (!res.ok) return null;
    const answer = answerSchema.parse(await res.json());
    return versionSchema.parse(deserializeFigures(answer.result.data)).version;
  } catch {
    return null;
  }
}

/**
 * The api's data version as last seen, asked at most once every `everyMs` and only when a request asks (no timer: an
 * idle server asks nothing). One question at a time: callers in the meantime share it.
 */
export class DataVersionPoller {
  /** The last answer; undefined until the first. */
  latest: Version | undefined = undefined;
  private inFlight: Promise<Version> | null = null;
  private lastAsked = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly ask: () => Promise<Version>,
    private readonly everyMs: number,
    private readonly onChange: (from: Version | undefined, to: Version) => void = () => undefined,
  ) {}

  /** Asks when no question ran in the last `everyMs` and none is in flight: that question, else null. */
  poll(): Promise<Version> | null {
    if (this.inFlight || Date.now() - this.lastAsked < this.everyMs) return null;
    return this.check();
  }

  /** The version now: the question in flight, or a new one. */
  current(): Promise<Version> {
    return this.inFlight ?? this.check();
  }

  private check(): Promise<Version> {
    this.lastAsked = Date.now();
    const asked = this.ask()
      .catch((): Version => null)
      .then((version) => {
        if (version !== this.latest) this.onChange(this.latest, version);
        this.latest = version;
        return version;
      });
    this.inFlight = asked.finally(() => {
      this.inFlight = null;
    });
    return this.inFlight;
  }
}
