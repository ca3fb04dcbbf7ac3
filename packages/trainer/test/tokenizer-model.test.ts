import { describe, expect, it } from "vitest";
import { BpeTokenizer, TokenizerConfigError, UnsupportedRegexError, compileOnigurumaRegex, translateOnigurumaPattern } from "../src/index.ts";

const BYTE_LEVEL = { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: false };

/** A hand-written tokenizer.json over the letters a, b, c (ASCII letters are their own byte-level chars). */
function tiny(merges: unknown[], extra: { vocab?: Record<string, number>; ignore_merges?: boolean; pre_tokenizer?: unknown } = {}) {
  return {
    added_tokens: [
      { id: 100, content: "<s>", special: true },
      { id: 101, content: "<s><s>", special: true },
    ],
    normalizer: null,
    pre_tokenizer: extra.pre_tokenizer ?? BYTE_LEVEL,
    post_processor: null,
    decoder: { type: "ByteLevel" },
    model: {
      type: "BPE",
      vocab: extra.vocab ?? { a: 0, b: 1, c: 2, ab: 3, bc: 4, abc: 5, aa: 6, aaaa: 7, " ": 8, Ġ: 9 },
      merges,
      ...(extra.ignore_merges === undefined ? {} : { ignore_merges: extra.ignore_merges }),
    },
  };
}
const tokens = (tok: BpeTokenizer, text: string) => tok.encode(text).map((id) => tok.idToToken(id));

describe("BPE merges", () => {
  it("apply in rank order, not left to right", () => {
    // "b c" outranks "a b": abc -> a + bc -> abc.
    const bcFirst = BpeTokenizer.fromJson(tiny(["b c", "a b", "a bc"]));
    expect(tokens(bcFirst, "abc")).toEqual(["abc"]);
    // With "a b" first: ab + c, and no "ab c" merge exists.
    const abFirst = BpeTokenizer.fromJson(
      tiny([
        ["a", "b"],
        ["b", "c"],
        ["a", "bc"],
      ]),
    );
    expect(tokens(abFirst, "abc")).toEqual(["ab", "c"]);
    expect(abFirst.mergeRank("a", "b")).toBe(0);
    expect(abFirst.mergeRank("a", "c")).toBeUndefined();
  });

  it("break ties by leftmost position", () => {
    const tok = BpeTokenizer.fromJson(tiny(["a a", "aa aa"]));
    expect(tokens(tok, "aaa")).toEqual(["aa", "a"]);
    expect(tokens(tok, "aaaa")).toEqual(["aaaa"]);
    expect(tokens(tok, "aaaaa")).toEqual(["aaaa", "a"]);
  });

  it("ignore_merges takes a whole word from the vocab before merging", () => {
    expect(tokens(BpeTokenizer.fromJson(tiny(["a b"], { ignore_merges: false })), "abc")).toEqual(["ab", "c"]);
    expect(tokens(BpeTokenizer.fromJson(tiny(["a b"], { ignore_merges: true })), "abc")).toEqual(["abc"]);
  });

  it("added tokens match longest first", () => {
    const tok = BpeTokenizer.fromJson(tiny([]));
    expect(tok.encode("a<s><s><s>b")).toEqual([0, 101, 100, 1]);
  });
});

describe("tokenizer.json validation", () => {
  const err = (json: unknown) => {
    try {
      BpeTokenizer.fromJson(json);
    } catch (e) {
      expect(e).toBeInstanceOf(TokenizerConfigError);
      return (e as Error).message;
    }
    throw new Error("expected a TokenizerConfigError");
  };

  it("names an unsupported model / pre_tokenizer / normalizer / decoder type and the supported ones", () => {
    const base = tiny([]);
    expect(err({ ...base, model: { ...base.model, type: "WordPiece" } })).toMatch(/model\.type "WordPiece" is not supported \(supported: BPE\)/);
    expect(err({ ...base, pre_tokenizer: { type: "Metaspace" } })).toMatch(
      /pre_tokenizer\.type "Metaspace" is not supported \(supported: Sequence, Split, Digits, ByteLevel\)/,
    );
    expect(
      err({
        ...base,
        pre_tokenizer: {
          type: "Sequence",
          pretokenizers: [{ type: "Split", pattern: { Regex: "x" }, behavior: "Isolated" }, { type: "Whitespace" }, BYTE_LEVEL],
        },
      }),
    ).toMatch(/pre_tokenizer\.pretokenizers\[1\]\.type "Whitespace" is not supported/);
    expect(err({ ...base, normalizer: { type: "Lowercase" } })).toMatch(
      /normalizer\.type "Lowercase" is not supported \(supported: Sequence, NFC, NFD, NFKC, NFKD\)/,
    );
    expect(err({ ...base, decoder: { type: "Metaspace" } })).toMatch(/decoder\.type "Metaspace" is not supported \(supported: ByteLevel\)/);
  });

  it("names bad fields inside a supported component", () => {
    const base = tiny([]);
    expect(err({ ...base, model: { ...base.model, byte_fallback: true } })).toMatch(/model\.byte_fallback: byte_fallback is not supported/);
    expect(err(tiny(["a z"]))).toMatch(/model\.merges\[0\] \["a","z"\]: token "z" is not in model\.vocab/);
    expect(err(tiny(["a b c"]))).toMatch(/model\.merges\[0\]/);
    expect(err({ ...base, pre_tokenizer: { type: "Split", pattern: { Regex: "a++" }, behavior: "Isolated" } })).toMatch(
      /pre_tokenizer\.pattern: unsupported regex "a\+\+": possessive quantifier/,
    );
    expect(err({ ...base, pre_tokenizer: { type: "Split", pattern: { Regex: "x" }, behavior: "Isolated" } })).toMatch(/must end with a ByteLevel/);
  });
});

describe("Oniguruma -> JS regex translation", () => {
  const matches = (pattern: string, text: string) => [...text.matchAll(compileOnigurumaRegex(pattern))].map((m) => m[0]);

  it("\\s is Unicode White_Space (NEL and ideographic space yes, BOM no)", () => {
    expect(matches("\\s+", "a\u0085\u3000b\ufeffc")).toEqual(["\u0085\u3000"]);
    expect(matches("[^\\s]+", "a\u0085b")).toEqual(["a", "b"]);
  });

  it("(?i:...) scoped flags, which Node 20 lacks, become case classes", () => {
    const llama3 = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    expect(matches(llama3, "I'M HERE'S 12345")).toEqual(["I", "'M", " HERE", "'S", " ", "123", "45"]);
    expect(translateOnigurumaPattern("(?i:'s)x")).toBe("(?:'[sS])x");
  });

  it("keeps Oniguruma literals that are errors under the u flag", () => {
    expect(matches("\\'a\\\"", "'a\"")).toEqual(["'a\""]);
    expect(matches("a{", "a{")).toEqual(["a{"]);
    expect(matches("[]a]+", "]a]")).toEqual(["]a]"]);
    expect(matches("a{2}", "aaa")).toEqual(["aa"]);
  });

  it("\\b and \\w are Unicode word boundaries and characters, as in Oniguruma (JS's own \\b is ASCII-only)", () => {
    // Plain JS /\b\w+/gu gives ["a", "lçü"] here.
    expect([..."éa ölçü".matchAll(/\b\w+/gu)].map((m) => m[0])).toEqual(["a", "l"]);
    expect(matches("\\b\\w+", "éa ölçü")).toEqual(["éa", "ölçü"]);
    expect(matches("\\b\\w+\\b", "Ωμέγα-βήτα x²")).toEqual(["Ωμέγα", "βήτα", "x²"]);
    expect(matches("\\B\\w", "ab é")).toEqual(["b"]);
    // Alphabetic (not only letters) and marks: circled letters, roman numerals, combining accents.
    expect(matches("\\w+", "Ⓐⅻe\u0301_1 !")).toEqual(["Ⓐⅻe\u0301_1"]);
    expect(matches("[\\b]", "a\bb")).toEqual(["\b"]);
  });

  it("^ and $ are line anchors at \\n only; . stops only at \\n", () => {
    expect(matches("^\\w+$", "ab\ncd\ref\u2028gh")).toEqual(["ab"]);
    expect(matches("\\s+$", "a  \nb  ")).toEqual(["  ", "  "]);
    expect(matches(".+", "a\rb\u2028c\nd")).toEqual(["a\rb\u2028c", "d"]);
    expect(matches("[.^$]+", "a.^$b")).toEqual([".^$"]);
  });

  it("rejects constructs JS cannot express", () => {
    expect(() => compileOnigurumaRegex("(?>a)")).toThrow(UnsupportedRegexError);
    expect(() => compileOnigurumaRegex("(?x)a")).toThrow(/inline flags/);
    expect(() => compileOnigurumaRegex("[a[b]]")).toThrow(/nested character classes/);
    expect(() => compileOnigurumaRegex("\\Gab")).toThrow(/\\G \(match-start anchor\) has no JS equivalent/);
    expect(() => compileOnigurumaRegex("\\X+")).toThrow(/extended grapheme cluster/);
    expect(() => compileOnigurumaRegex("(a)\\1")).toThrow(/backreference \\1/);
    expect(() => compileOnigurumaRegex("\\p{Han}")).toThrow(UnsupportedRegexError);
  });
});
