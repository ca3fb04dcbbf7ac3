import { TokenizerConfigError, type BpeModelConfig } from "./schema.ts";

/** Tokens of one word: ids and, per id, how many characters of the word it covers. */
export interface WordTokens {
  ids: number[];
  lengths: number[];
}

interface Merge {
  rank: number;
  id: number;
}

// Heap keys pack (rank, position) into one number: rank * POS_RANGE + pos. Both stay < 2^24,
// so keys are exact doubles and ordering by key is ordering by (rank, then leftmost position),
// which is the tie-break tokenizers' Word::merge_all uses.
const POS_RANGE = 2 ** 24;

class MinHeap {
  private readonly items: number[] = [];
  get size(): number {
    return this.items.length;
  }
  push(key: number): void {
    const a = this.items;
    a.push(key);
    let i = a.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (a[parent]! <= key) break;
      a[i] = a[parent]!;
      i = parent;
    }
    a[i] = key;
  }
  pop(): number {
    const a = this.items;
    const top = a[0]!;
    const last = a.pop()!;
    if (a.length > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= a.length) break;
        const r = l + 1;
        const child = r < a.length && a[r]! < a[l]! ? r : l;
        if (a[child]! >= last) break;
        a[i] = a[child]!;
        i = child;
      }
      a[i] = last;
    }
    return top;
  }
}

/**
 * The BPE model of tokenizers: a vocab and a merge-rank map keyed by the pair's ids. Words arrive
 * already byte-level mapped, so every character is a vocab entry in practice. (The word cache
 * lives in BpeTokenizer, keyed by the raw piece, so cache hits also skip the byte mapping.)
 */
export class BpeModel {
  readonly vocab: ReadonlyMap<string, number>;
  private readonly merges = new Map<number, Merge>();
  private readonly stride: number;
  private readonly unkId: number | null;
  private readonly fuseUnk: boolean;
  private readonly ignoreMerges: boolean;

  constructor(config: BpeModelConfig, file: string) {
    const vocab = new Map<string, number>();
    let maxId = -1;
    for (const [token, id] of Object.entries(config.vocab)) {
      vocab.set(token, id);
      if (id > maxId) maxId = id;
    }
    this.vocab = vocab;
    this.stride = maxId + 1;
    if (config.merges.length >= POS_RANGE) {
      throw new TokenizerConfigError(`${file}: model.merges has ${config.merges.length} entries; at most ${POS_RANGE - 1} supported`);
    }
    config.merges.forEach((merge, rank) => {
      const [a, b] = typeof merge === "string" ? (merge.split(" ") as [string, string]) : merge;
      const aId = vocab.get(a);
      const bId = vocab.get(b);
      const id = vocab.get(a + b);
      if (aId === undefined || bId === undefined || id === undefined) {
        const missing = aId === undefined ? a : bId === undefined ? b : a + b;
        throw new TokenizerConfigError(`${file}: model.merges[${rank}] ${JSON.stringify([a, b])}: token ${JSON.stringify(missing)} is not in model.vocab`);
      }
      // A repeated pair keeps its last rank, as tokenizers' HashMap collection does.
      this.merges.set(aId * this.stride + bId, { rank, id });
    });
    const unk = config.unk_token ?? null;
    if (unk !== null && !vocab.has(unk)) {
      throw new TokenizerConfigError(`${file}: model.unk_token ${JSON.stringify(unk)} is not in model.vocab`);
    }
    this.unkId = unk === null ? null : vocab.get(unk)!;
    this.fuseUnk = config.fuse_unk ?? false;
    this.ignoreMerges = config.ignore_merges ?? false;
  }

  /** Rank of merging `a` then `b`, or undefined when no merge exists (for tests and tooling). */
  mergeRank(a: string, b: string): number | undefined {
    const aId = this.vocab.get(a);
    const bId = this.vocab.get(b);
    if (aId === undefined || bId === undefined) return undefined;
    return this.merges.get(aId * this.stride + bId)?.rank;
  }

  tokenize(word: string): WordTokens {
    if (word.length === 0) return { ids: [], lengths: [] };
    if (this.ignoreMerges) {
      const whole = this.vocab.get(word);
      if (whole !== undefined) return { ids: [whole], lengths: [[...word].length] };
    }
    return this.mergeWord(word);
  }

  private mergeWord(word: string): WordTokens {
    const ids: number[] = [];
    const lengths: number[] = [];
    let unkLen = 0;
    for (const ch of word) {
      const id = this.vocab.get(ch);
      if (id !== undefined) {
        if (unkLen > 0) {
          ids.push(this.unkId!);
          lengths.push(unkLen);
          unkLen = 0;
        }
        ids.push(id);
        lengths.push(1);
      } else if (this.unkId !== null) {
        if (unkLen > 0 && !this.fuseUnk) {
          ids.push(this.unkId);
          lengths.push(unkLen);
          unkLen = 0;
        }
        unkLen += 1;
      }
      // No unk token: the character is dropped, as tokenizers does.
    }
    if (unkLen > 0) {
      ids.push(this.unkId!);
      lengths.push(unkLen);
    }
    const n = ids.length;
    if (n < 2) return { ids, lengths };
    if (n >= POS_RANGE) throw new Error(`word of ${n} symbols is too long to merge`);

    const next = new Int32Array(n);
    const prev = new Int32Array(n);
    const alive = new Uint8Array(n).fill(1);
    for (let i = 0; i < n; i++) {
      next[i] = i + 1 < n ? i + 1 : -1;
      prev[i] = i - 1;
    }
    const heap = new MinHeap();
    for (let i = 0; i + 1 < n; i++) {
      const m = this.merges.get(ids[i]! * this.stride + ids[i + 1]!);
      if (m) heap.push(m.rank * POS_RANGE + i);
    }
    while (heap.size > 0) {
      const key = heap.pop();
      const pos = key % POS_RANGE;
      const rank = (key - pos) / POS_RANGE;
      if (!alive[pos]) continue;
      const right = next[pos]!;
      if (right === -1) continue;
      const m = this.merges.get(ids[pos]! * this.stride + ids[right]!);
      if (!m || m.rank !== rank) continue; // stale entry: a neighbour changed since it was pushed
      ids[pos] = m.id;
      lengths[pos] = lengths[pos]! + lengths[right]!;
      alive[right] = 0;
      const after = next[right]!;
      next[pos] = after;
      if (after !== -1) prev[after] = pos;
      const before = prev[pos]!;
      if (before !== -1) {
        const left = this.merges.get(ids[before]! * this.stride + ids[pos]!);
        if (left) heap.push(left.rank * POS_RANGE + before);
      }
      if (after !== -1) {
        const rightMerge = this.merges.get(ids[pos]! * this.stride + ids[after]!);
        if (rightMerge) heap.push(rightMerge.rank * POS_RANGE + pos);
      }
    }
    const outIds: number[] = [];
    const outLengths: number[] = [];
    for (let i = 0; i !== -1; i = next[i]!) {
      outIds.push(ids[i]!);
      outLengths.push(lengths[i]!);
    }
    return { ids: outIds, lengths: outLengths };
  }
}
