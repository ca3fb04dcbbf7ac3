// Core's memory estimate beside the trainer bench's measured peaks (the trainer issue: within 15% per cell).
// Run bench/trainer/train_bench.py on the GPU machine first; then, anywhere:
//   pnpm exec tsx bench/trainer-memory.ts [bench/results/trainer-h100.json]
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { countParameters, estimateMemory, parseModelConfig } from "../packages/core/src/index.ts";

const here = dirname(fileURLToPath(import.meta.url));
const resultsPath = process.argv[2] ?? join(here, "results", "trainer-h100.json");
if (!existsSync(resultsPath)) {
  console.error(`${resultsPath}: no trainer bench results yet; run \`python3 bench/trainer/train_bench.py\` on a GPU machine first`);
  process.exit(2);
}
const bench = z
  .object({
    measured_at: z.string(),
    device: z.string(),
    setup: z.object({
      seq_len: z.number(),
      sequences_per_step: z.number(),
      k: z.number(),
      kept: z.number(),
      activation_checkpointing: z.boolean(),
      dtype: z.string(),
      optimizer_state_dtype: z.string(),
    }),
    cells: z.array(z.object({ cell: z.enum(["A", "B", "C"]), tokens_per_s: z.number(), peak_gib: z.number().nullable(), mfu: z.number().nullable() })),
  })
  .parse(JSON.parse(readFileSync(resultsPath, "utf8")));

const config = JSON.parse(readFileSync(join(here, "..", "packages/trainer/worker/configs/deepseek-v2-lite.json"), "utf8"));
const census = countParameters(parseModelConfig(config));
const s = bench.setup;
const weightBytes = s.dtype === "bfloat16" || s.dtype === "bf16" ? 2 : 4;
const memory = estimateMemory(census, {
  trainable: s.k,
  kept: s.kept,
  microBatch: s.sequences_per_step,
  seqLen: s.seq_len,
  checkpointing: s.activation_checkpointing,
  bytesPerWeight: weightBytes,
  bytesPerGrad: weightBytes,
  // AdamW m and v: two states per trainable parameter
  bytesPerOptimizerState: 2 * (s.optimizer_state_dtype === "fp32" ? 4 : 2),
});

const rows = bench.cells.map((c) => {
  const estimatedGiB = memory[c.cell].totalGiB;
  const diff = c.peak_gib === null ? null : (estimatedGiB - c.peak_gib) / c.peak_gib;
  return {
    cell: c.cell,
    tokensPerSecond: c.tokens_per_s,
    mfu: c.mfu,
    measuredPeakGiB: c.peak_gib,
    estimatedGiB,
    diff,
    within15: diff === null ? null : Math.abs(diff) <= 0.15,
  };
});
console.log(
  `${bench.device}, measured ${bench.measured_at}; ${s.sequences_per_step} × ${s.seq_len} tokens, K=${s.k}, N=${s.kept}, checkpointing ${s.activation_checkpointing}`,
);
console.log("cell  tokens/s  MFU     peak GiB  core est. GiB  diff     within 15%");
for (const r of rows) {
  console.log(
    `${r.cell.padEnd(4)}  ${Math.round(r.tokensPerSecond).toLocaleString("en-US").padStart(8)}  ${r.mfu === null ? "-".padEnd(6) : `${(100 * r.mfu).toFixed(1)}%`.padEnd(6)}  ${(r.measuredPeakGiB?.toFixed(1) ?? "-").padStart(8)}  ${r.estimatedGiB.toFixed(1).padStart(13)}  ${r.diff === null ? "-".padStart(6) : `${(100 * r.diff).toFixed(1)}%`.padStart(6)}   ${r.within15 ?? "-"}`,
  );
}
writeFileSync(join(here, "results", "trainer-memory.json"), `${JSON.stringify({ date: new Date().toISOString(), source: resultsPath, rows }, null, 2)}\n`);
