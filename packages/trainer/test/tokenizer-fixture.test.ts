import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { DEEPSEEK_BOS, DEEPSEEK_EOS, DEEPSEEK_V2_PRE_TOKENIZER, loadTokenizer, readSftExamples, trainByteLevelBpe } from "../src/index.ts";

const here = dirname(fileURLToPath(import.meta.url));
const shipped = join(here, "../fixtures/tiny-tokenizer");
const gsm8kTrain = join(process.env.SHARED_DIR || fileURLToPath(new URL("../../../../shared", import.meta.url)), "data/gsm8k/train.jsonl");

describe("tiny tokenizer fixtures", () => {
  it("has 512 BPE tokens + BOS/EOS", async () => {
    const tok = await loadTokenizer(shipped);
    expect(tok.vocabSize).toBe(514);
    expect([tok.tokenToId(DEEPSEEK_BOS), tok.tokenToId(DEEPSEEK_EOS)]).toEqual([512, 513]);
    // Learned merges compress GSM8K-like text well below one token per byte.
    const text = "Natalia sold 48 clips in April and then she sold half as many clips in May.";
    expect(tok.encode(text, { addSpecialTokens: false }).length).toBeLessThan(Buffer.byteLength(text) * 0.6);
  });

  it("training is deterministic and the merges reproduce the training words", () => {
    const texts = ["the cat sat on the mat", "the hat is on the cat", "that cat, the cat!"];
    const opts = { texts, vocabSize: 270, preTokenizer: DEEPSEEK_V2_PRE_TOKENIZER, specialTokens: [DEEPSEEK_EOS], mergeFormat: "pairs" as const };
    const a = trainByteLevelBpe(opts);
    expect(JSON.stringify(trainByteLevelBpe(opts))).toBe(JSON.stringify(a));
    expect(Object.keys(a.model.vocab)).toHaveLength(270);
    // Hand count over the words: "at" 8 (cat x4, sat, mat, hat, that), "th" 6, then "th"+"e" 5.
    expect(a.model.merges.slice(0, 3)).toEqual([
      ["a", "t"],
      ["t", "h"],
      ["th", "e"],
    ]);
    expect(a.added_tokens).toEqual([expect.objectContaining({ id: 270, content: DEEPSEEK_EOS, special: true })]);
  });

  it.skipIf(!existsSync(gsm8kTrain))("the shipped fixture is what build-tiny-tokenizer produces from GSM8K", async () => {
    const rows = (await readSftExamples(gsm8kTrain, { limit: 400 })).examples;
    const rebuilt = trainByteLevelBpe({
      texts: rows.map((r) => `${r.messages[0]!.content}\n${r.messages[1]!.content}`),
      vocabSize: 512,
      preTokenizer: DEEPSEEK_V2_PRE_TOKENIZER,
      specialTokens: [DEEPSEEK_BOS, DEEPSEEK_EOS],
      mergeFormat: "pairs",
    });
    expect(`${JSON.stringify(rebuilt, null, 2)}\n`).toBe(readFileSync(join(shipped, "tokenizer.json"), "utf8"));
  });
});
