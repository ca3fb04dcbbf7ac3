import {
  countParameters,
  estimateMemory,
  estimateThroughput,
  formatFigure,
  groupedNumber,
  parseModelConfig,
  shardSizes,
  cells,
  type ParameterCensus,
} from "@subnet-review/core";
import { z } from "zod";
import { numberFlag, parseFlags, readJsonFile } from "../args.ts";
import { formatTable } from "../table.ts";

export const modelUsage = `pnpm review census --config FILE [--trainable K --kept N] [--json]
pnpm review memory --config FILE --trainable K --kept N [--gpu NAME] [--micro-batch B --seq S] [--checkpointing] [--json]
pnpm review throughput --gpu-tokens-per-second R --multiplier M --cycle-blocks C --window-hours W [--block-seconds 12] [--json]`;

const count = numberFlag.pipe(z.number().int("must be a whole number").nonnegative("must be 0 or more"));

async function readCensus(path: string): Promise<ParameterCensus> {
  return countParameters(parseModelConfig(await readJsonFile(path, "--config")));
}

export async function censusCommand(argv: string[]): Promise<void> {
  const flags = parseFlags(
    argv,
    { config: { type: "string" }, trainable: { type: "string" }, kept: { type: "string" }, json: { type: "boolean" } },
    z
      .object({ config: z.string({ error: "required: a Hugging Face config.json" }), trainable: count.optional(), kept: count.optional(), json: z.boolean().optional() })
      .refine((f) => f.kept === undefined || f.trainable !== undefined, { path: ["trainable"], message: "required with --kept" }),
  );
  const census = await readCensus(flags.config);
  const shard = flags.trainable === undefined ? null : shardSizes(census, { trainable: flags.trainable, kept: flags.kept ?? 0 });
  const params = {
    total: census.total,
    backbone: census.backbone,
    shared: census.sharedExperts,
    routed: census.routedExperts,
    perExpert: census.perExpert,
    embeddings: census.embeddings,
    lmHead: census.lmHead,
    attention: census.attention,
    denseFfn: census.denseFfn,
    routerGates: census.routerGates,
    norms: census.norms,
    activePerToken: census.activePerToken,
  };
  if (flags.json) {
    console.log(
      JSON.stringify({
        modelType: census.modelType,
        params,
        moeLayers: census.moeLayers,
        denseLayers: census.denseLayers,
        routedExpertsPerLayer: census.routedExpertsPerLayer,
        expertsPerToken: census.expertsPerToken,
        ...(shard ? { trainable: flags.trainable, kept: flags.kept ?? 0, shard } : {}),
      }),
    );
    return;
  }
  const f = census.figures;
  console.log(`${census.modelType}: ${census.moeLayers} MoE layers × ${census.routedExpertsPerLayer} routed experts, top-${census.expertsPerToken}\n`);
  console.log(formatTable(["part", "parameters", "exact", "how it's computed"], Object.values(f).map((x) => [x.label, formatFigure(x), groupedNumber(x.value), x.formula])));
  if (shard) {
    console.log(`\nK=${flags.trainable} trainable, N=${flags.kept ?? 0} kept per MoE layer\n`);
    console.log(formatTable(["cell", "trainable", "resident (GPU)", "parked (CPU)"], cells.map((c) => [c, ...[shard[c].trainable, shard[c].resident, shard[c].parked].map((v) => formatFigure({ value: v, unit: "params" }))])));
  }
}

export async function memoryCommand(argv: string[]): Promise<void> {
  const flags = parseFlags(
    argv,
    {
      config: { type: "string" },
      trainable: { type: "string" },
      kept: { type: "string" },
      gpu: { type: "string" },
      "micro-batch": { type: "string" },
      seq: { type: "string" },
      checkpointing: { type: "boolean" },
      "bytes-weight": { type: "string" },
      "bytes-grad": { type: "string" },
      "bytes-optimizer": { type: "string" },
      json: { type: "boolean" },
    },
    z.object({
      config: z.string({ error: "required: a Hugging Face config.json" }),
      trainable: count,
      kept: count.default(0),
      gpu: z.string().optional(),
      "micro-batch": count.optional(),
      seq: count.optional(),
      checkpointing: z.boolean().optional(),
      "bytes-weight": numberFlag.optional(),
      "bytes-grad": numberFlag.optional(),
      "bytes-optimizer": numberFlag.optional(),
      json: z.boolean().optional(),
    }),
  );
  const census = await readCensus(flags.config);
  const memory = estimateMemory(census, {
    trainable: flags.trainable,
    kept: flags.kept,
    ...(flags.gpu === undefined ? {} : { gpu: flags.gpu }),
    ...(flags["micro-batch"] === undefined ? {} : { microBatch: flags["micro-batch"] }),
    ...(flags.seq === undefined ? {} : { seqLen: flags.seq }),
    ...(flags.checkpointing === undefined ? {} : { checkpointing: flags.checkpointing }),
    ...(flags["bytes-weight"] === undefined ? {} : { bytesPerWeight: flags["bytes-weight"] }),
    ...(flags["bytes-grad"] === undefined ? {} : { bytesPerGrad: flags["bytes-grad"] }),
    ...(flags["bytes-optimizer"] === undefined ? {} : { bytesPerOptimizerState: flags["bytes-optimizer"] }),
  });
  if (flags.json) {
    const out = Object.fromEntries(
      cells.map((c) => {
        const m = memory[c];
        return [c, { trainable: m.trainable, resident: m.resident, parked: m.parked, weightsGB: m.weightsGB, gradsGB: m.gradsGB, optimizerGB: m.optimizerGB, activationsGB: m.activationsGB, totalGB: m.totalGB, fitsOn: m.fitsOn, gpu: m.gpu, gpusNeeded: m.gpusNeeded }];
      }),
    );
    console.log(JSON.stringify(out));
    return;
  }
  const gb = (v: number) => formatFigure({ value: v, unit: "GB" });
  console.log(
    formatTable(
      ["cell", "weights", "grads", "optimizer", "activations", "total", "fits on", `${memory.A.gpu} needed`],
      cells.map((c) => {
        const m = memory[c];
        return [c, gb(m.weightsGB), gb(m.gradsGB), gb(m.optimizerGB), gb(m.activationsGB), gb(m.totalGB), m.fitsOn.join(", ") || "none", String(m.gpusNeeded ?? "no fit")];
      }),
    ),
  );
  console.log(`\nactivations: ${memory.A.figure.activationsGB.formula}`);
}

export async function throughputCommand(argv: string[]): Promise<void> {
  const positive = numberFlag.pipe(z.number().positive("must be greater than 0"));
  const flags = parseFlags(
    argv,
    {
      "gpu-tokens-per-second": { type: "string" },
      multiplier: { type: "string" },
      "cycle-blocks": { type: "string" },
      "block-seconds": { type: "string" },
      "window-hours": { type: "string" },
      json: { type: "boolean" },
    },
    z.object({
      "gpu-tokens-per-second": positive,
      multiplier: positive,
      "cycle-blocks": count,
      "block-seconds": positive.optional(),
      "window-hours": positive,
      json: z.boolean().optional(),
    }),
  );
  const t = estimateThroughput({
    gpuTokensPerSecond: flags["gpu-tokens-per-second"],
    multiplier: flags.multiplier,
    cycleBlocks: flags["cycle-blocks"],
    ...(flags["block-seconds"] === undefined ? {} : { blockSeconds: flags["block-seconds"] }),
    windowHours: flags["window-hours"],
  });
  if (flags.json) {
    console.log(JSON.stringify({ tokensPerSecond: t.tokensPerSecond, hoursPerRound: t.hoursPerRound, tokensPerRound: t.tokensPerRound, rounds: t.rounds }));
    return;
  }
  console.log(formatTable(["figure", "value", "how it's computed"], t.figures.map((f) => [f.label, formatFigure(f), f.formula])));
}
