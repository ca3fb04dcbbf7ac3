import type { AddedTokenConfig } from "./schema.ts";

/** A stretch of input: either plain text for the model or one whole added token. */
export type Segment = { kind: "text"; start: number; end: number } | { kind: "added"; start: number; end: number; id: number };

const WHITE_SPACE = /\p{White_Space}/u;
const WORD_CHAR = /[\p{L}\p{N}_]/u;

function escapeRegExp(text: string): string {
  return text.replace(/[\\^$.*+?()[\]{}|/-]/g, "\\$&");
}

/**
 * Finds added tokens in raw text before any model sees it, like tokenizers' AddedVocabulary:
 * leftmost-longest literal matching, honouring single_word, lstrip and rstrip.
 */
export class AddedTokenMatcher {
  private readonly pattern: RegExp | null;
  private readonly byContent = new Map<string, AddedTokenConfig>();

  constructor(tokens: readonly AddedTokenConfig[]) {
    for (const t of tokens) this.byContent.set(t.content, t);
    // Longest first: JS alternation is leftmost-first, so at any position this picks the longest.
    const contents = [...this.byContent.keys()].sort((a, b) => b.length - a.length);
    this.pattern = contents.length ? new RegExp(contents.map(escapeRegExp).join("|"), "gu") : null;
  }

  split(text: string): Segment[] {
    const segments: Segment[] = [];
    let offset = 0;
    if (this.pattern) {
      this.pattern.lastIndex = 0;
      for (const m of text.matchAll(this.pattern)) {
        const token = this.byContent.get(m[0])!;
        let start = m.index;
        let stop = start + m[0].length;
        if (start < offset) continue; // swallowed by a previous token's rstrip
        if (token.single_word) {
          const before = start > 0 ? String.fromCodePoint(text.codePointAt(start - 1)!) : "";
          const after = stop < text.length ? String.fromCodePoint(text.codePointAt(stop)!) : "";
          if ((before && WORD_CHAR.test(before.slice(-1))) || (after && WORD_CHAR.test(after))) continue;
        }
        if (token.lstrip) {
          while (start > offset && WHITE_SPACE.test(text[start - 1]!)) start--;
        }
        if (token.rstrip) {
          while (stop < text.length && WHITE_SPACE.test(text[stop]!)) stop++;
        }
        if (offset < start) segments.push({ kind: "text", start: offset, end: start });
        segments.push({ kind: "added", start, end: stop, id: token.id });
        offset = stop;
      }
    }
    if (offset < text.length) segments.push({ kind: "text", start: offset, end: text.length });
    return segments;
  }
}
