import { z } from "zod";
import { compileOnigurumaRegex } from "./regex.ts";
import {
  SUPPORTED_PRE_TOKENIZERS,
  TokenizerConfigError,
  byteLevelPreSchema,
  componentType,
  digitsSchema,
  parseField,
  splitSchema,
  type SplitConfig,
} from "./schema.ts";

/**
 * A piece of one text segment on its way to the model. `start` is its UTF-16 index in the segment;
 * `prefix` counts characters at the front of `text` that are not in the segment (ByteLevel's
 * add_prefix_space), so offsets can be mapped back.
 */
export interface Piece {
  text: string;
  start: number;
  prefix: number;
}

export type PreTokenizeStep = (pieces: Piece[]) => Piece[];

export type SplitBehavior = SplitConfig["behavior"];

/** (start, end, isMatch) over a piece's text, covering it without gaps. */
type Span = [number, number, boolean];

/** GPT-2's pattern, used by ByteLevel when use_regex is true. */
export const GPT2_PATTERN = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

function regexSpans(text: string, re: RegExp): Span[] {
  const spans: Span[] = [];
  let prev = 0;
  re.lastIndex = 0;
  // exec with lastIndex, not matchAll: matchAll clones the RegExp on every call.
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    const s = m.index;
    const e = s + m[0].length;
    if (s === e) {
      // Empty matches only make empty pieces, which are dropped; step past one code point.
      re.lastIndex = e + ((text.codePointAt(e) ?? 0) > 0xffff ? 2 : 1);
      continue;
    }
    if (prev < s) spans.push([prev, s, false]);
    spans.push([s, e, true]);
    prev = e;
  }
  if (prev < text.length) spans.push([prev, text.length, false]);
  return spans;
}

/** Applies a split behavior exactly as tokenizers' NormalizedString::split does; returns kept spans. */
export function applyBehavior(spans: Span[], behavior: SplitBehavior): Array<[number, number]> {
  const kept: Array<[number, number]> = [];
  switch (behavior) {
    case "Isolated":
      for (const [s, e] of spans) kept.push([s, e]);
      return kept;
    case "Removed":
      for (const [s, e, m] of spans) if (!m) kept.push([s, e]);
      return kept;
    case "MergedWithPrevious": {
      let previousMatch = false;
      for (const [s, e, m] of spans) {
        const last = kept[kept.length - 1];
        if (m && !previousMatch && last) last[1] = e;
        else kept.push([s, e]);
        previousMatch = m;
      }
      return kept;
    }
    case "MergedWithNext": {
      let previousMatch = false;
      for (let i = spans.length - 1; i >= 0; i--) {
        const [s, e, m] = spans[i]!;
        const last = kept[kept.length - 1];
        if (m && !previousMatch && last) last[0] = s;
        else kept.push([s, e]);
        previousMatch = m;
      }
      return kept.reverse();
    }
    case "Contiguous": {
      let previousMatch = false;
      for (const [s, e, m] of spans) {
        const last = kept[kept.length - 1];
        if (m === previousMatch && last) last[1] = e;
        else kept.push([s, e]);
        previousMatch = m;
      }
      return kept;
    }
  }
}

function splitStep(spansOf: (text: string) => Span[], behavior: SplitBehavior, invert: boolean): PreTokenizeStep {
  return (pieces) => {
    const out: Piece[] = [];
    for (const piece of pieces) {
      let spans = spansOf(piece.text);
      if (spans.length === 1 && (behavior !== "Removed" || spans[0]![2] === invert)) {
        out.push(piece); // nothing to split: keep the piece as is
        continue;
      }
      if (invert) spans = spans.map(([s, e, m]) => [s, e, !m]);
      for (const [s, e] of applyBehavior(spans, behavior)) {
        if (s === e) continue;
        // Characters added by add_prefix_space stay attributed to the first sub-piece.
        const prefix = Math.max(0, Math.min(piece.prefix, e) - s);
        out.push({ text: piece.text.slice(s, e), start: piece.start + Math.max(0, s - piece.prefix), prefix });
      }
    }
    return out;
  };
}

function escapeRegExp(text: string): string {
  return text.replace(/[\\^$.*+?()[\]{}|/-]/g, "\\$&");
}

const sequenceSchema = z.object({ type: z.literal("Sequence"), pretokenizers: z.array(z.unknown()).min(1) });
// Each numeric code point is its own match, like tokenizers' `char::is_numeric` pattern.
const NUMERIC = /\p{N}/gu;

/** The parsed pre-tokenizer: its split steps, then the (required, final) ByteLevel mapping. */
export interface PreTokenizer {
  steps: PreTokenizeStep[];
  /** Whether ByteLevel prepends a space to pieces not starting with one. */
  addPrefixSpace: boolean;
  /** Set once the ByteLevel step is seen; required. */
  byteLevel: boolean;
}

function buildSteps(config: unknown, file: string, field: string, out: PreTokenizer, isLast: boolean): void {
  const type = componentType(config, SUPPORTED_PRE_TOKENIZERS, file, field);
  switch (type) {
    case "Sequence": {
      const seq = parseField(sequenceSchema, config, file, field);
      seq.pretokenizers.forEach((child, i) => buildSteps(child, file, `${field}.pretokenizers[${i}]`, out, isLast && i === seq.pretokenizers.length - 1));
      return;
    }
    case "Split": {
      const split = parseField(splitSchema, config, file, field);
      let re: RegExp;
      try {
        re = "Regex" in split.pattern ? compileOnigurumaRegex(split.pattern.Regex) : new RegExp(escapeRegExp(split.pattern.String), "gu");
      } catch (err) {
        throw new TokenizerConfigError(`${file}: ${field}.pattern: ${(err as Error).message}`);
      }
      out.steps.push(splitStep((text) => regexSpans(text, re), split.behavior, split.invert));
      return;
    }
    case "Digits": {
      const digits = parseField(digitsSchema, config, file, field);
      out.steps.push(splitStep((text) => regexSpans(text, NUMERIC), digits.individual_digits ? "Isolated" : "Contiguous", false));
      return;
    }
    case "ByteLevel": {
      const byteLevel = parseField(byteLevelPreSchema, config, file, field);
      if (!isLast) {
        throw new TokenizerConfigError(`${file}: ${field}: ByteLevel must be the last pre-tokenizer (it maps text to bytes)`);
      }
      out.addPrefixSpace = byteLevel.add_prefix_space;
      if (byteLevel.add_prefix_space) {
        out.steps.push((pieces) => pieces.map((p) => (p.text.startsWith(" ") ? p : { text: ` ${p.text}`, start: p.start, prefix: p.prefix + 1 })));
      }
      if (byteLevel.use_regex) {
        const re = compileOnigurumaRegex(GPT2_PATTERN);
        out.steps.push(splitStep((text) => regexSpans(text, re), "Isolated", false));
      }
      out.byteLevel = true;
      return;
    }
  }
}

/**
 * Builds the pre-tokenizer from tokenizer.json's `pre_tokenizer`. Only byte-level BPE is in scope,
 * so a ByteLevel pre-tokenizer must end the chain.
 */
export function buildPreTokenizer(config: unknown, file: string): PreTokenizer {
  if (config === null || config === undefined) {
    throw new TokenizerConfigError(`${file}: pre_tokenizer is null; a ByteLevel pre-tokenizer is required (supported: ${SUPPORTED_PRE_TOKENIZERS.join(", ")})`);
  }
  const out: PreTokenizer = { steps: [], addPrefixSpace: false, byteLevel: false };
  buildSteps(config, file, "pre_tokenizer", out, true);
  if (!out.byteLevel) {
    throw new TokenizerConfigError(`${file}: pre_tokenizer must end with a ByteLevel pre-tokenizer (byte-level BPE only)`);
  }
  return out;
}

/** Splits one text segment into pieces (still plain text, not yet byte-mapped). */
export function preTokenize(pre: PreTokenizer, segment: string): Piece[] {
  let pieces: Piece[] = [{ text: segment, start: 0, prefix: 0 }];
  for (const step of pre.steps) pieces = step(pieces);
  return pieces;
}
