import type { TokenizedExample } from "./tokenize-example.ts";

export interface PackOptions {
  seqLen: number;
  padId: number;
}

export interface PackedSequences {
  seqLen: number;
  sequences: number;
  /** sequences * seqLen ids, row-major. */
  inputIds: Int32Array;
  /** 1 where the token is a training target (predicted from the previous position). */
  lossMask: Uint8Array;
  targetTokens: number;
  paddingTokens: number;
  /** Examples whose tokens continue into the next sequence. */
  splitExamples: number;
}

/** The data holds no target a model could learn (refused before any file is written). */
export class NoTargetsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "NoTargetsError";
  }
}

/**
 * Concatenates examples in the given order and cuts the stream every `seqLen` tokens. An example
 * crossing a cut is split, not truncated: its remainder opens the next sequence. Each example keeps
 * its own target flags (its BOS and prompt are never targets, so nothing is learned across the
 * example boundary); each sequence's first position is never a target since no position precedes
 * it; the last sequence is padded with `padId`, mask 0.
 */
export function packExamples(examples: readonly TokenizedExample[], options: PackOptions): PackedSequences {
  const { seqLen, padId } = options;
  if (!Number.isInteger(seqLen) || seqLen < 2) throw new RangeError(`seqLen must be an integer >= 2, got ${seqLen}`);
  const total = examples.reduce((n, e) => n + e.ids.length, 0);
  if (total === 0) throw new RangeError("packExamples: no tokens to pack");
  const sequences = Math.ceil(total / seqLen);
  const inputIds = new Int32Array(sequences * seqLen).fill(padId);
  const lossMask = new Uint8Array(sequences * seqLen);
  let pos = 0;
  let targetTokens = 0;
  let splitExamples = 0;
  for (const example of examples) {
    if (example.ids.length === 0) continue;
    const firstSeq = Math.floor(pos / seqLen);
    for (let i = 0; i < example.ids.length; i++, pos++) {
      inputIds[pos] = example.ids[i]!;
      if (example.targets[i] === 1 && pos % seqLen !== 0) {
        lossMask[pos] = 1;
        targetTokens++;
      }
    }
    if (Math.floor((pos - 1) / seqLen) !== firstSeq) splitExamples++;
  }
  return { seqLen, sequences, inputIds, lossMask, targetTokens, paddingTokens: sequences * seqLen - total, splitExamples };
}

export interface TrainableRows extends PackedSequences {
  /** Rows dropped because no position after their first holds a target (only prompt text or padding). */
  droppedRows: number;
}

/**
 * Keeps only the rows that hold at least one target. A row made of prompt text alone (a long question cut off
 * before its answer) teaches nothing, and a batch drawn only from such rows has no loss at all: the worker
 * would stop mid-run. Dropping them here means every batch of every epoch has a target.
 */
export function keepRowsWithTargets(packed: PackedSequences): TrainableRows {
  const { seqLen, sequences } = packed;
  const kept: number[] = [];
  for (let r = 0; r < sequences; r++) {
    if (packed.lossMask.subarray(r * seqLen, (r + 1) * seqLen).includes(1)) kept.push(r);
  }
  if (kept.length === sequences) return { ...packed, droppedRows: 0 };
  const inputIds = new Int32Array(kept.length * seqLen);
  const lossMask = new Uint8Array(kept.length * seqLen);
  kept.forEach((r, i) => {
    inputIds.set(packed.inputIds.subarray(r * seqLen, (r + 1) * seqLen), i * seqLen);
    lossMask.set(packed.lossMask.subarray(r * seqLen, (r + 1) * seqLen), i * seqLen);
  });
  // Padding sits only in the last row; it goes when that row goes.
  const paddingTokens = kept.at(-1) === sequences - 1 ? packed.paddingTokens : 0;
  return { ...packed, sequences: kept.length, inputIds, lossMask, paddingTokens, droppedRows: sequences - kept.length };
}
