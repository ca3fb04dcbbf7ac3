import { z } from "zod";

/** The nine phases of a subnet 102 cycle, in chain order. */
export const PHASE_NAMES = [
  "Distribute",
  "Train",
  "MinerCommit1",
  "MinerCommit2",
  "Submission",
  "Validate",
  "Merge",
  "ValidatorCommit1",
  "ValidatorCommit2",
] as const;
export type PhaseName = (typeof PHASE_NAMES)[number];

const blockCount = z.number().int().positive();
const phaseLengthsSchema = z.object(Object.fromEntries(PHASE_NAMES.map((name) => [name, blockCount])) as Record<PhaseName, typeof blockCount>).strict();
export type PhaseLengths = z.infer<typeof phaseLengthsSchema>;

/** One schedule in force from `fromBlock` until the next segment's `fromBlock`. */
export const scheduleSegmentSchema = z.object({
  fromBlock: z.number().int().nonnegative(),
  phases: phaseLengthsSchema,
  source: z.string().min(1),
});
export type ScheduleSegment = z.infer<typeof scheduleSegmentSchema>;

/** From `fromBlock` on the schedule is not known (phases null): no cycle is computed there until a later segment. */
export const unknownSegmentSchema = z.object({
  fromBlock: z.number().int().nonnegative(),
  phases: z.null(),
  source: z.string().min(1),
});
export type UnknownSegment = z.infer<typeof unknownSegmentSchema>;
export type HistorySegment = ScheduleSegment | UnknownSegment;
const isKnown = (segment: HistorySegment): segment is ScheduleSegment => segment.phases !== null;

/**
 * A schedule history file: a JSON array of segments in strictly increasing `fromBlock`, each
 * { fromBlock, phases: { Distribute, Train, MinerCommit1, MinerCommit2, Submission, Validate, Merge,
 * ValidatorCommit1, ValidatorCommit2 } (block counts) | null, source: where the lengths come from }.
 */
export const scheduleHistorySchema = z
  .array(z.union([scheduleSegmentSchema, unknownSegmentSchema]))
  .min(1, "schedule history needs at least one segment")
  .superRefine((segments, ctx) => {
    for (let i = 1; i < segments.length; i++) {
      if (segments[i]!.fromBlock <= segments[i - 1]!.fromBlock) {
        ctx.addIssue({ code: "custom", path: [i, "fromBlock"], message: "segments must have strictly increasing fromBlock" });
      }
    }
  });
export type ScheduleHistory = z.infer<typeof scheduleHistorySchema>;

/**
 * Phase lengths of Connito-AI/Connito connito/shared/config.py CycleCfg (commit_period 10 for each commit phase;
 * sum 500). The live chain has run 524-block cycles (Distribute 20, Train 300 at block 8,668,092), whose other
 * phase lengths are served by the owner's endpoint: refresh with fetchOwnerSchedule rather than trust this.
 */
export const CONNITO_REPO_DEFAULT_PHASES: PhaseLengths = {
  Distribute: 20,
  Train: 300,
  MinerCommit1: 10,
  MinerCommit2: 10,
  Submission: 80,
  Validate: 10,
  Merge: 50,
  ValidatorCommit1: 10,
  ValidatorCommit2: 10,
};

export function cycleLength(phases: PhaseLengths): number {
  return PHASE_NAMES.reduce((sum, name) => sum + phases[name], 0);
}

export interface PhaseWindow {
  phase: PhaseName;
  /** Inclusive block range. */
  start: number;
  end: number;
}

export interface CycleWindow {
  /** block // length under its schedule: not unique across schedules, so never an identity on its own. */
  index: number;
  length: number;
  firstBlock: number;
  lastBlock: number;
  phases: PhaseWindow[];
  /** The schedule segment this cycle was computed with, and its key (see scheduleKey). */
  schedule: ScheduleSegment;
  scheduleKey: string;
}

/** A segment's identity: its first block and its nine phase lengths, e.g. "0:20/300/10/10/80/10/50/10/10". */
export function scheduleKey(segment: ScheduleSegment): string {
  return `${segment.fromBlock}:${PHASE_NAMES.map((p) => segment.phases[p]).join("/")}`;
}

export function parseScheduleHistory(input: unknown): ScheduleHistory {
  const parsed = scheduleHistorySchema.safeParse(input);
  if (!parsed.success) throw new Error(`invalid schedule history: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

function windowFor(segment: ScheduleSegment, index: number): CycleWindow {
  // Only known segments reach here: callers skip those whose phases are null.
  const length = cycleLength(segment.phases);
  const firstBlock = index * length;
  const phases: PhaseWindow[] = [];
  let start = firstBlock;
  for (const phase of PHASE_NAMES) {
    phases.push({ phase, start, end: start + segment.phases[phase] - 1 });
    start += segment.phases[phase];
  }
  return { index, length, firstBlock, lastBlock: firstBlock + length - 1, phases, schedule: segment, scheduleKey: scheduleKey(segment) };
}

/** First block after segment i (Infinity for the last). */
const segmentUntil = (history: ScheduleHistory, i: number) => history[i + 1]?.fromBlock ?? Number.POSITIVE_INFINITY;

/**
 * Whole cycles of every segment with a block in [fromBlock, toBlock], oldest first. A cycle cut by a schedule
 * change (its first block before the change, or its last after the next one) belongs to no segment and is left out.
 */
export function cyclesOverlapping(history: ScheduleHistory, fromBlock: number, toBlock: number): CycleWindow[] {
  const windows: CycleWindow[] = [];
  history.forEach((segment, i) => {
    if (!isKnown(segment)) return;
    const length = cycleLength(segment.phases);
    const until = segmentUntil(history, i);
    const lo = Math.max(Math.ceil(segment.fromBlock / length), Math.floor(Math.max(0, fromBlock) / length));
    const hi = Math.min(Math.floor(until / length) - 1, Math.floor(toBlock / length));
    for (let index = lo; index <= hi; index++) windows.push(windowFor(segment, index));
  });
  return windows;
}

/**
 * The last `count` whole cycles that end at or before `block`, walking back across schedule changes; oldest first.
 * The walk stops at a segment whose schedule is unknown rather than skip over it.
 */
export function lastCyclesEndingBy(history: ScheduleHistory, count: number, block: number): CycleWindow[] {
  const windows: CycleWindow[] = [];
  for (let i = history.length - 1; i >= 0 && windows.length < count; i--) {
    const segment = history[i]!;
    if (segment.fromBlock > block) continue;
    if (!isKnown(segment)) break;
    const length = cycleLength(segment.phases);
    const lo = Math.ceil(segment.fromBlock / length);
    const hi = Math.floor(Math.min(segmentUntil(history, i), block + 1) / length) - 1;
    for (let index = hi; index >= lo && windows.length < count; index--) windows.push(windowFor(segment, index));
  }
  return windows.reverse();
}

export class AmbiguousCycleRangeError extends RangeError {
  override name = "AmbiguousCycleRangeError";
}

/**
 * Cycles fromIndex..toIndex that lie wholly in one segment. Indexes restart at every change, so when the range
 * matches cycles under more than one schedule it is ambiguous and this throws, naming the segments.
 */
export function cyclesByIndex(history: ScheduleHistory, fromIndex: number, toIndex: number): CycleWindow[] {
  const bySegment = new Map<string, CycleWindow[]>();
  for (let index = fromIndex; index <= toIndex; index++) {
    history.forEach((segment, i) => {
      if (!isKnown(segment)) return;
      const window = windowFor(segment, index);
      if (window.firstBlock >= segment.fromBlock && window.lastBlock < segmentUntil(history, i)) {
        bySegment.set(window.scheduleKey, [...(bySegment.get(window.scheduleKey) ?? []), window]);
      }
    });
  }
  if (bySegment.size > 1) {
    const spans = [...bySegment.values()].map(
      (w) => `${w.length} cycles of ${w[0]!.length} blocks from #${w[0]!.firstBlock} (schedule from #${w[0]!.schedule.fromBlock})`,
    );
    throw new AmbiguousCycleRangeError(
      `cycles ${fromIndex}–${toIndex} exist under more than one schedule: ${spans.join(" and ")}; name blocks instead (--from-block/--to-block)`,
    );
  }
  return [...bySegment.values()][0] ?? [];
}

/** The segment in force at `block`, or null before the first segment. */
export function segmentAt(history: ScheduleHistory, block: number): HistorySegment | null {
  let found: HistorySegment | null = null;
  for (const segment of history) if (segment.fromBlock <= block) found = segment;
  return found;
}

/**
 * The cycle `index` under the segment whose range holds all of that cycle's blocks. When the cycle length changes,
 * cycle_index = block // cycle_length restarts from a different number, and the cycles cut by the boundary belong
 * to no segment: those return null.
 */
export function cycleWindow(history: ScheduleHistory, index: number): CycleWindow | null {
  for (let i = history.length - 1; i >= 0; i--) {
    const segment = history[i]!;
    if (!isKnown(segment)) continue;
    const until = history[i + 1]?.fromBlock ?? Number.POSITIVE_INFINITY;
    const window = windowFor(segment, index);
    if (window.firstBlock >= segment.fromBlock && window.lastBlock < until) return window;
  }
  return null;
}

/** The cycle that holds `block` under the schedule then in force. */
export function cycleAtBlock(history: ScheduleHistory, block: number): CycleWindow | null {
  const segment = segmentAt(history, block);
  if (!segment || !isKnown(segment)) return null;
  return windowFor(segment, Math.floor(block / cycleLength(segment.phases)));
}

export function phaseWindow(cycle: CycleWindow, phase: PhaseName): PhaseWindow {
  const window = cycle.phases.find((p) => p.phase === phase);
  if (!window) throw new Error(`cycle ${cycle.index} has no ${phase} phase`);
  return window;
}

/** The phase `block` falls in, within its cycle. */
export function phaseAtBlock(history: ScheduleHistory, block: number): PhaseWindow | null {
  const cycle = cycleAtBlock(history, block);
  return cycle?.phases.find((p) => block >= p.start && block <= p.end) ?? null;
}

/** The owner's phase service `GET /`: { cycle_length, phases: [{ index, name, length }] }. */
export const ownerScheduleResponseSchema = z
  .object({
    cycle_length: blockCount,
    phases: z.array(z.object({ index: z.number().int().nonnegative(), name: z.enum(PHASE_NAMES), length: blockCount })),
  })
  .superRefine((body, ctx) => {
    const names = [...body.phases].sort((a, b) => a.index - b.index).map((p) => p.name);
    if (names.join() !== PHASE_NAMES.join()) {
      ctx.addIssue({ code: "custom", path: ["phases"], message: `phases must be exactly ${PHASE_NAMES.join(", ")} in order` });
    }
    const total = body.phases.reduce((sum, p) => sum + p.length, 0);
    if (total !== body.cycle_length) {
      ctx.addIssue({ code: "custom", path: ["cycle_length"], message: `cycle_length ${body.cycle_length} != sum of phases ${total}` });
    }
  });

/**
 * Reads the owner's schedule and returns it as a segment starting at `fromBlock` (the block it was observed at).
 * Optional input: the chain stays the record, this only supplies phase lengths.
 */
export async function fetchOwnerSchedule(url: string, fromBlock: number, fetchImpl: typeof fetch = fetch): Promise<ScheduleSegment> {
  const response = await fetchImpl(new URL("/", url), { headers: { accept: "application/json" } });
  if (!response.ok) throw new Error(`owner schedule ${url}: HTTP ${response.status}`);
  const parsed = ownerScheduleResponseSchema.safeParse(await response.json());
  if (!parsed.success) throw new Error(`owner schedule ${url}: unexpected body: ${z.prettifyError(parsed.error)}`);
  const phases = Object.fromEntries(parsed.data.phases.map((p) => [p.name, p.length])) as PhaseLengths;
  return { fromBlock, phases, source: `owner endpoint ${url}` };
}

/** Appends a newly observed segment when its phases differ from the one in force; otherwise returns history as is. */
export function withObservedSegment(history: ScheduleHistory, observed: ScheduleSegment): ScheduleHistory {
  const current = segmentAt(history, observed.fromBlock);
  if (current && isKnown(current) && PHASE_NAMES.every((p) => current.phases[p] === observed.phases[p])) return history;
  const last = history[history.length - 1]!;
  if (observed.fromBlock <= last.fromBlock) {
    throw new Error(`observed schedule at block ${observed.fromBlock} is not after the last segment (${last.fromBlock})`);
  }
  return [...history, observed];
}
