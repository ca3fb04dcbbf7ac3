import { utf8Length } from "../tokenizer/byte-level.ts";
import type { BpeTokenizer } from "../tokenizer/tokenizer.ts";
import type { RenderedExample } from "./template.ts";

/** Token ids of one example and, per token, 1 if it is a training target. */
export interface TokenizedExample {
  ids: number[];
  targets: Uint8Array;
}

/**
 * Tokenizes the whole rendered text at once (so tokens match what the model sees at inference)
 * and marks a token as a target when its bytes overlap a target range: a token straddling a
 * boundary counts as target since it carries target text.
 */
export function tokenizeExample(tokenizer: BpeTokenizer, rendered: RenderedExample): TokenizedExample {
  const { ids, offsets } = tokenizer.encodeWithOffsets(rendered.text, { addSpecialTokens: false });
  const ranges = rendered.targets.map(([s, e]) => {
    const start = utf8Length(rendered.text.slice(0, s));
    return [start, start + utf8Length(rendered.text.slice(s, e))] as const;
  });
  const targets = new Uint8Array(ids.length);
  offsets.forEach(([s, e], i) => {
    if (ranges.some(([ts, te]) => e > ts && s < te)) targets[i] = 1;
  });
  return { ids, targets };
}
