import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { z } from "zod";
import { loadTokenizer } from "../tokenizer/tokenizer.ts";
import { readSftExamples } from "./examples.ts";
import { NoTargetsError, keepRowsWithTargets, packExamples } from "./pack.ts";
import { PACKED_FORMAT, writePackedDataset, type PackedManifest } from "./packed-format.ts";
import { seededShuffle } from "./shuffle.ts";
import { DEEPSEEK_V2_CHAT_TEMPLATE, chatTemplateSchema, describeTemplate, renderExample, type ChatTemplate } from "./template.ts";
import { tokenizeExample } from "./tokenize-example.ts";

export const prepareSftOptionsSchema = z.object({
  dataPath: z.string().min(1),
  tokenizerDir: z.string().min(1),
  seqLen: z
    .number()
    .int()
    .min(2)
    .max(1 << 20),
  outDir: z.string().min(1),
  seed: z.number().int().min(0).max(0xffffffff),
  limit: z.number().int().positive().optional(),
  template: chatTemplateSchema.optional(),
});
export type PrepareSftOptions = z.input<typeof prepareSftOptionsSchema> & { template?: ChatTemplate };

/**
 * JSONL SFT file -> packed dataset directory for the PyTorch worker: read and validate every line,
 * render with the chat template, tokenize (targets = assistant text), shuffle by seed, pack into
 * seqLen rows, drop the rows without a target (counted in droppedRows), write atomically. Returns the manifest written to packed.json.
 */
export async function prepareSftData(options: PrepareSftOptions): Promise<PackedManifest> {
  const parsed = prepareSftOptionsSchema.safeParse(options);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join(".") || "options"}: ${i.message}`);
    throw new RangeError(`prepareSftData: invalid options: ${issues.join("; ")}`);
  }
  const opts = parsed.data;
  const template = opts.template ?? DEEPSEEK_V2_CHAT_TEMPLATE;
  const tokenizer = await loadTokenizer(opts.tokenizerDir);
  for (const special of template.specialTokens) {
    const id = tokenizer.tokenToId(special);
    if (id === undefined || tokenizer.encode(special, { addSpecialTokens: false }).length !== 1) {
      throw new Error(`template "${template.name}" needs ${JSON.stringify(special)} as one token, but ${opts.tokenizerDir} has no such added token`);
    }
  }
  const padId = tokenizer.padId ?? tokenizer.eosId;
  if (padId === null) throw new Error(`${opts.tokenizerDir}: tokenizer_config.json sets neither pad_token nor eos_token; one is needed to pad`);

  const file = await readSftExamples(opts.dataPath, opts.limit === undefined ? {} : { limit: opts.limit });
  const ordered = seededShuffle(file.examples, opts.seed);
  const tokenized = ordered.map((e) => tokenizeExample(tokenizer, renderExample(e.messages, template)));
  const packed = keepRowsWithTargets(packExamples(tokenized, { seqLen: opts.seqLen, padId }));
  if (packed.sequences === 0) {
    throw new NoTargetsError(`${opts.dataPath}: no row of ${opts.seqLen} tokens holds a target token (an assistant answer), nothing to train on`);
  }
  const tokenizerBytes = await readFile(join(opts.tokenizerDir, "tokenizer.json"));

  const manifest: PackedManifest = {
    format: PACKED_FORMAT,
    seqLen: packed.seqLen,
    sequences: packed.sequences,
    tokens: packed.inputIds.length,
    targetTokens: packed.targetTokens,
    vocabSize: tokenizer.vocabSize,
    padId,
    source: { path: resolve(opts.dataPath), lines: file.lines, sha256: file.sha256 },
    template: describeTemplate(template),
    seed: opts.seed,
    examples: tokenized.length,
    splitExamples: packed.splitExamples,
    paddingTokens: packed.paddingTokens,
    droppedRows: packed.droppedRows,
    tokenizer: { path: resolve(opts.tokenizerDir), sha256: createHash("sha256").update(tokenizerBytes).digest("hex") },
    chatTemplate: template,
  };
  await writePackedDataset(opts.outDir, manifest, packed.inputIds, packed.lossMask);
  return manifest;
}
