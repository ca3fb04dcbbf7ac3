import { BYTE_TO_CHAR, byteLevelString } from "./byte-level.ts";
import { buildPreTokenizer, preTokenize } from "./pre-tokenizer.ts";

export interface TrainByteLevelBpeOptions {
  texts: Iterable<string>;
  /** Model vocab size including the 256 byte tokens (added tokens come after it). */
  vocabSize: number;
  /** tokenizer.json `pre_tokenizer` config used both to split the corpus and in the output. */
  preTokenizer: unknown;
  /** Special added tokens, given ids vocabSize, vocabSize + 1, ... */
  specialTokens: readonly string[];
  /** How merges are written: tokenizers >= 0.20 writes pairs, older files "a b" strings. */
  mergeFormat: "pairs" | "strings";
}

/** The tokenizer.json object a training run produces. */
export interface TrainedTokenizerJson {
  version: "1.0";
  truncation: null;
  padding: null;
  added_tokens: Array<{
    id: number;
    content: string;
    single_word: false;
    lstrip: false;
    rstrip: false;
    normalized: false;
    special: true;
  }>;
  normalizer: null;
  pre_tokenizer: unknown;
  post_processor: { type: "ByteLevel"; add_prefix_space: true; trim_offsets: false; use_regex: true };
  decoder: { type: "ByteLevel"; add_prefix_space: true; trim_offsets: true; use_regex: true };
  model: {
    type: "BPE";
    dropout: null;
    unk_token: null;
    continuing_subword_prefix: null;
    end_of_word_suffix: null;
    fuse_unk: false;
    byte_fallback: false;
    ignore_merges: false;
    vocab: Record<string, number>;
    merges: Array<[string, string]> | string[];
  };
}

/**
 * Trains byte-level BPE merges on a text sample: count pre-tokenized words, then repeatedly merge
 * the most frequent adjacent pair (ties: the pair with smaller ids), updating pair counts only in
 * the words that contain the merged pair. Deterministic for the same inputs.
 */
export function trainByteLevelBpe(options: TrainByteLevelBpeOptions): TrainedTokenizerJson {
  if (!Number.isInteger(options.vocabSize) || options.vocabSize < 256) {
    throw new RangeError(`vocabSize must be an integer >= 256 (the byte alphabet), got ${options.vocabSize}`);
  }
  const pre = buildPreTokenizer(options.preTokenizer, "<training pre_tokenizer>");
  const wordCounts = new Map<string, number>();
  for (const text of options.texts) {
    for (const piece of preTokenize(pre, text)) {
      const word = byteLevelString(piece.text);
      wordCounts.set(word, (wordCounts.get(word) ?? 0) + 1);
    }
  }

  const tokens: string[] = [...BYTE_TO_CHAR];
  const idOf = new Map<string, number>(tokens.map((t, i) => [t, i]));
  const words: number[][] = [];
  const counts: number[] = [];
  for (const [word, count] of wordCounts) {
    words.push([...word].map((ch) => idOf.get(ch)!));
    counts.push(count);
  }

  const STRIDE = 1 << 20;
  const pairCount = new Map<number, number>();
  const pairWords = new Map<number, Set<number>>();
  const addPairs = (w: number, sign: 1 | -1): void => {
    const syms = words[w]!;
    for (let i = 0; i + 1 < syms.length; i++) {
      const key = syms[i]! * STRIDE + syms[i + 1]!;
      pairCount.set(key, (pairCount.get(key) ?? 0) + sign * counts[w]!);
      if (sign === 1) {
        let set = pairWords.get(key);
        if (!set) pairWords.set(key, (set = new Set()));
        set.add(w);
      }
    }
  };
  for (let w = 0; w < words.length; w++) addPairs(w, 1);

  const merges: Array<[string, string]> = [];
  while (tokens.length < options.vocabSize) {
    let bestKey = -1;
    let bestCount = 0;
    for (const [key, count] of pairCount) {
      if (count > bestCount || (count === bestCount && count > 0 && key < bestKey)) {
        bestKey = key;
        bestCount = count;
      }
    }
    if (bestCount <= 0) break; // corpus exhausted: every word is a single token
    const a = Math.floor(bestKey / STRIDE);
    const b = bestKey % STRIDE;
    const merged = tokens[a]! + tokens[b]!;
    let newId = idOf.get(merged);
    if (newId === undefined) {
      newId = tokens.length;
      tokens.push(merged);
      idOf.set(merged, newId);
    }
    merges.push([tokens[a]!, tokens[b]!]);
    for (const w of pairWords.get(bestKey) ?? []) {
      addPairs(w, -1);
      const syms = words[w]!;
      const out: number[] = [];
      for (let i = 0; i < syms.length; i++) {
        if (i + 1 < syms.length && syms[i] === a && syms[i + 1] === b) {
          out.push(newId);
          i++;
        } else out.push(syms[i]!);
      }
      words[w] = out;
      addPairs(w, 1);
    }
    pairWords.delete(bestKey);
    pairCount.delete(bestKey);
  }

  const vocab: Record<string, number> = {};
  tokens.forEach((t, i) => (vocab[t] = i));
  return {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: options.specialTokens.map((content, i) => ({
      id: tokens.length + i,
      content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    })),
    normalizer: null,
    pre_tokenizer: options.preTokenizer,
    post_processor: { type: "ByteLevel", add_prefix_space: true, trim_offsets: false, use_regex: true },
    decoder: { type: "ByteLevel", add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: "BPE",
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab,
      merges: options.mergeFormat === "pairs" ? merges : merges.map(([x, y]) => `${x} ${y}`),
    },
  };
}
