import { figure, type Figure } from "@subnet-review/core";
import type { Db } from "@subnet-review/db";

const n = (v: number) => v.toLocaleString("en-US");

/** Cycles averaged when a review names no window: the published review's 48. */
export const DEFAULT_WINDOW_CYCLES = 48;

/** One ingested cycle as section 03 charts it. */
export interface MinerCyclePoint {
  cycle: number;
  /** distinct active miners as the published review counts them (committed inside MinerCommit1/MinerCommit2) */
  activeMiners: number;
  /** of those looked at, the miners Connito's validators accept */
  acceptedMiners: number;
  firstBlockHash: string;
  lastBlockHash: string;
  scheduleKey: string;
  registeredNeurons: number;
  length: number;
  firstBlock: number;
  lastBlock: number;
}

/** The ingested cycles of a review's window, oldest first, and how the window was chosen. */
export interface ChainWindow {
  netuid: number;
  points: MinerCyclePoint[];
  /** "review": the review's cycleFrom..cycleTo; "latest": the last DEFAULT_WINDOW_CYCLES ingested cycles. */
  chosenBy: "review" | "latest";
}

export interface MinersView {
  /** The published figures, kept as the reported comparison. */
  average: Figure | null;
  cycles: Figure | null;
  /** Per-cycle distinct active miners from the chain; empty when nothing is ingested. */
  series: MinerCyclePoint[];
  /** Window average of the committed count (the published review's wording). */
  measuredAverage: Figure | null;
  /** Window average of the accepted count (what the subnet's validators accept). */
  measuredAcceptedAverage: Figure | null;
  windowHours: Figure | null;
  /** The latest ingested cycle's length: section 02's hours per round follow the chain's current schedule. */
  cycleLength: Figure | null;
}

const pointSelect = {
  cycle: true,
  committedMiners: true,
  acceptedMiners: true,
  registeredNeurons: true,
  length: true,
  firstBlock: true,
  lastBlock: true,
  firstBlockHash: true,
  lastBlockHash: true,
  scheduleKey: true,
} as const;

type PointRow = {
  cycle: number;
  committedMiners: number;
  acceptedMiners: number;
  registeredNeurons: number;
  length: number;
  firstBlock: number;
  lastBlock: number;
  firstBlockHash: string;
  lastBlockHash: string;
  scheduleKey: string;
};
const toPoint = ({ committedMiners, ...r }: PointRow): MinerCyclePoint => ({ ...r, activeMiners: committedMiners });

/** The review's window of ingested cycles, or null when none of them is in the database. */
export async function loadChainWindow(db: Db, review: { netuid: number; cycleFrom: number | null; cycleTo: number | null }): Promise<ChainWindow | null> {
  const { netuid, cycleFrom, cycleTo } = review;
  if (cycleFrom !== null || cycleTo !== null) {
    const points = await db.chainCycle.findMany({
      where: { netuid, cycle: { gte: cycleFrom ?? undefined, lte: cycleTo ?? undefined } },
      select: pointSelect,
      orderBy: { firstBlock: "asc" },
    });
    return points.length ? { netuid, points: points.map(toPoint), chosenBy: "review" } : null;
  }
  // Newest first by block: a cycle index can repeat across schedule changes, a first block cannot.
  const latest = await db.chainCycle.findMany({ where: { netuid }, select: pointSelect, orderBy: { firstBlock: "desc" }, take: DEFAULT_WINDOW_CYCLES });
  return latest.length ? { netuid, points: latest.reverse().map(toPoint), chosenBy: "latest" } : null;
}

/**
 * Section 03 from the chain: the window average of distinct active miners and the window's hours, both measured
 * from the ingested cycles, beside the published figures (reported).
 */
export function buildMinersView(
  window: ChainWindow | null,
  published: { average: Figure | null; cycles: Figure | null },
  blockSeconds: { value: number; source: string },
): MinersView {
  if (!window) return { ...published, series: [], measuredAverage: null, measuredAcceptedAverage: null, windowHours: null, cycleLength: null };
  const { points, netuid } = window;
  const first = points[0]!;
  const last = points.at(-1)!;
  const span = `cycles ${n(first.cycle)}–${n(last.cycle)}`;
  const source = `chain, netuid ${netuid}: ${points.length} ingested cycles (${span}, blocks #${n(first.firstBlock)}–#${n(last.lastBlock)}), each read at a finalized block hash`;
  const cycles = figure({
    id: "miners.measured.cycles",
    label: "Ingested cycles in the window",
    value: points.length,
    unit: "count",
    formula: `cycles ingested from the chain (${span})`,
    kind: "measured",
    source,
  });
  const minerCycles = figure({
    id: "miners.measured.minerCycles",
    label: "Active miners summed over the window",
    value: points.reduce((sum, p) => sum + p.activeMiners, 0),
    unit: "count",
    formula:
      "Σ distinct active miners per cycle: registered hotkeys, not validators (whitelisted with fresh weights), whose commitment was made inside MinerCommit1 or MinerCommit2",
    kind: "measured",
    source,
  });
  const measuredAverage = figure({
    id: "miners.measured.average",
    label: "Distinct active miners per cycle (window average)",
    value: minerCycles.value / cycles.value,
    unit: "count",
    formula: `mean of distinct active miners over ${n(points.length)} cycles (${span})`,
    kind: "measured",
    inputs: { minerCycles, cycles },
    source,
  });
  const acceptedCycles = figure({
    id: "miners.measured.acceptedMinerCycles",
    label: "Accepted miners summed over the window",
    value: points.reduce((sum, p) => sum + p.acceptedMiners, 0),
    unit: "count",
    formula:
      'Σ miners per cycle that the subnet\'s validators accept: a {"m"} commitment at MinerCommit1 end + 1 and a submission at MinerCommit2 end + 1, registered, version within 3 cycles',
    kind: "measured",
    source,
  });
  const measuredAcceptedAverage = figure({
    id: "miners.measured.acceptedAverage",
    label: "Miners accepted by validators per cycle (window average)",
    value: acceptedCycles.value / cycles.value,
    unit: "count",
    formula: `mean of accepted miners over ${n(points.length)} cycles (${span})`,
    kind: "measured",
    inputs: { minerCycles: acceptedCycles, cycles },
    source,
  });
  // Each cycle stores its own length: the schedule has changed over the chain's history.
  const blocks = figure({
    id: "miners.measured.blocks",
    label: "Blocks in the ingested cycles",
    value: points.reduce((sum, p) => sum + p.length, 0),
    unit: "blocks",
    formula: "Σ cycle length of each ingested cycle",
    kind: "measured",
    source,
  });
  const seconds = figure({
    id: "throughput.blockSeconds",
    label: "Block time",
    value: blockSeconds.value,
    unit: "seconds",
    formula: "seconds per block",
    kind: "reported",
    source: blockSeconds.source,
  });
  const windowHours = figure({
    id: "throughput.windowHours",
    label: "Window",
    value: (blocks.value * seconds.value) / 3600,
    unit: "hours",
    formula: `${n(points.length)} cycles (${span}) × cycle length ${lengthsText(points)} blocks × ${seconds.value} s / 3600`,
    kind: "measured",
    inputs: { cycles, blocks, blockSeconds: seconds },
    source,
  });
  const cycleLength = figure({
    id: "throughput.cycleBlocks",
    label: "Cycle length",
    value: last.length,
    unit: "blocks",
    formula: `length of the latest ingested cycle (${n(last.cycle)}), the sum of its phase lengths`,
    kind: "measured",
    source,
  });
  return { ...published, series: points, measuredAverage, measuredAcceptedAverage, windowHours, cycleLength };
}

function lengthsText(points: MinerCyclePoint[]): string {
  const lengths = [...new Set(points.map((p) => p.length))];
  return lengths.length === 1 ? n(lengths[0]!) : `${n(Math.min(...lengths))}–${n(Math.max(...lengths))} (Σ per cycle)`;
}
