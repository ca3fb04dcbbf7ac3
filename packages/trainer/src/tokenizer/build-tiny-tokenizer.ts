/**
 * Builds the tiny tokenizers used by tests and CI (no model hub here, so we train our own):
 *   fixtures/tiny-tokenizer/                 DeepSeek-V2 pre-tokenizer, 512 vocab + BOS/EOS
 *   test/fixtures/tokenizer/gpt2-tiny/       ByteLevel(use_regex) pre-tokenizer, "a b" merges
 * trained on the first lines of GSM8K train. Run from the repo root:
 *   pnpm exec tsx packages/trainer/src/tokenizer/build-tiny-tokenizer.ts [path/to/train.jsonl]
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { DEEPSEEK_BOS, DEEPSEEK_EOS, DEEPSEEK_V2_PRE_TOKENIZER } from "./deepseek.ts";
import { trainByteLevelBpe } from "./train-bpe.ts";

const TRAIN_LINES = 400;
const VOCAB_SIZE = 512;

const packageDir = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const dataPath = process.argv[2] ?? join(process.env.SHARED_DIR || fileURLToPath(new URL("../../../../../shared", import.meta.url)), "data/gsm8k/train.jsonl");
const lineSchema = z.object({ question: z.string(), answer: z.string() });
const texts = readFileSync(dataPath, "utf8")
  .split("\n")
  .filter((l) => l.trim() !== "")
  .slice(0, TRAIN_LINES)
  .map((l, i) => {
    const row = lineSchema.safeParse(JSON.parse(l));
    if (!row.success) throw new Error(`${dataPath}:${i + 1}: expected {question, answer}: ${row.error.message}`);
    return `${row.data.question}\n${row.data.answer}`;
  });

function write(dir: string, files: Record<string, unknown>): void {
  mkdirSync(dir, { recursive: true });
  for (const [name, value] of Object.entries(files)) writeFileSync(join(dir, name), `${JSON.stringify(value, null, 2)}\n`);
  console.log(`wrote ${dir}`);
}

const tokenRef = (content: string) => ({
  __type: "AddedToken",
  content,
  lstrip: false,
  normalized: true,
  rstrip: false,
  single_word: false,
});

const deepseek = trainByteLevelBpe({
  texts,
  vocabSize: VOCAB_SIZE,
  preTokenizer: DEEPSEEK_V2_PRE_TOKENIZER,
  specialTokens: [DEEPSEEK_BOS, DEEPSEEK_EOS],
  mergeFormat: "pairs",
});
// Mirrors DeepSeek-V2's tokenizer_config.json: BOS added by LlamaTokenizerFast, EOS doubles as pad.
const deepseekConfig = {
  add_bos_token: true,
  add_eos_token: false,
  bos_token: tokenRef(DEEPSEEK_BOS),
  eos_token: tokenRef(DEEPSEEK_EOS),
  pad_token: tokenRef(DEEPSEEK_EOS),
  clean_up_tokenization_spaces: false,
  legacy: true,
  model_max_length: 16384,
  tokenizer_class: "LlamaTokenizerFast",
};
write(join(packageDir, "fixtures/tiny-tokenizer"), { "tokenizer.json": deepseek, "tokenizer_config.json": deepseekConfig });

const gpt2 = trainByteLevelBpe({
  texts,
  vocabSize: VOCAB_SIZE,
  preTokenizer: { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: true },
  specialTokens: ["<|endoftext|>"],
  mergeFormat: "strings",
});
write(join(packageDir, "test/fixtures/tokenizer/gpt2-tiny"), { "tokenizer.json": gpt2 });
