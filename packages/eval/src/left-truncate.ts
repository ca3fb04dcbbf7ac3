import { type BpeTokenizer, loadTokenizer } from "@subnet-review/trainer";

/** Counts and cuts text in the served model's tokens (its tokenizer.json). */
export interface PromptTokenizer {
  /** Tokens the server adds around a prompt (a BOS): they count against the model's length too. */
  readonly specialTokens: number;
  /** The longest suffix of `text` of at most `budget` tokens. */
  lastTokens(text: string, budget: number): string;
}

/** UTF-16 index of the first character starting at or after UTF-8 byte `byte` of `text`. */
function indexAtByte(text: string, byte: number): number {
  let bytes = 0;
  let index = 0;
  for (const ch of text) {
    if (bytes >= byte) return index;
    bytes += Buffer.byteLength(ch, "utf8");
    index += ch.length;
  }
  return text.length;
}

/**
 * Left truncation as lm-evaluation-harness does it (it keeps the last max_length tokens of the encoding). We send
 * text, so the cut is made at the first kept token's offset and the suffix is encoded again until it fits: a cut
 * inside a word may re-tokenize one token longer.
 */
export function promptTokenizer(tokenizer: BpeTokenizer): PromptTokenizer {
  return {
    specialTokens: tokenizer.encode("", { addSpecialTokens: true }).length,
    lastTokens(text: string, budget: number): string {
      if (budget < 1) throw new RangeError(`a token budget of ${budget} leaves no room for the prompt`);
      let kept = text;
      for (;;) {
        const { ids, offsets } = tokenizer.encodeWithOffsets(kept, { addSpecialTokens: false });
        if (ids.length <= budget) return kept;
        const cut = indexAtByte(kept, offsets[ids.length - budget]![0]);
        // A first kept token at offset 0 (after zero-width tokens) would not shorten the text: drop one character.
        kept = kept.slice(cut > 0 ? cut : String.fromCodePoint(kept.codePointAt(0)!).length);
      }
    },
  };
}

/** The tokenizer.json (and tokenizer_config.json) in `dir` as a PromptTokenizer. */
export async function loadPromptTokenizer(dir: string): Promise<PromptTokenizer> {
  return promptTokenizer(await loadTokenizer(dir));
}
