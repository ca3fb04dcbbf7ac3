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
import { numberFlag, parseFlags, readJsonFile, type CommandHelp, type FlagSpec, type FlagSpecs } from "../args.ts";
import { formatTable } from "../table.ts";

const configFlag = { type: "string", value: "FILE", help: "the model's Hugging Face config.json" } satisfies FlagSpec;
const jsonFlag = { type: "boolean", help: "print one JSON object" } satisfies FlagSpec;

const censusFlags = {
  config: configFlag,
  trainable: { type: "string", value: "K", help: "trainable routed experts per MoE layer: adds the shard sizes per cell" },
  kept: { type: "string", value: "N", help: "frozen routed experts kept resident per MoE layer (cell B; with --trainable)" },
  json: jsonFlag,
} satisfies FlagSpecs;

const memoryFlags = {
  config: configFlag,
  trainable: { type: "string", value: "K", help: "trainable routed experts per MoE layer" },
  kept: { type: "string", value: "N", help: "frozen routed experts kept resident per MoE layer (default 0)" },
  gpu: { type: "string", value: "NAME", help: 'the GPU to count GPUs of, e.g. "RTX A6000" (default "H100 80GB")' },
  "micro-batch": { type: "string", value: "B", help: "sequences per step per GPU, for activations (default 2)" },
  seq: { type: "string", value: "S", help: "tokens per sequence, for activations (default 2048)" },
  checkpointing: { type: "boolean", help: "activation checkpointing per decoder layer" },
  "bytes-weight": { type: "string", value: "BYTES", help: "bytes per resident weight (default 2: bf16)" },
  "bytes-grad": { type: "string", value: "BYTES", help: "bytes per gradient (default 2)" },
  "bytes-optimizer": { type: "string", value: "BYTES", help: "optimizer-state bytes per trainable parameter (default 4)" },
  json: jsonFlag,
} satisfies FlagSpecs;

const throughputFlags = {
  "gpu-tokens-per-second": { type: "string", value: "R", help: "training tokens a second on one miner's GPU" },
  multiplier: { type: "string", value: "M", help: "the review's multiplier: network tokens a second = per-GPU rate × M" },
  "cycle-blocks": { type: "string", value: "C", help: "blocks per cycle (one round of training)" },
  "block-seconds": { type: "string", value: "S", help: "seconds per block (default 12)" },
  "window-hours": { type: "string", value: "W", help: "the window the rounds are counted over, in hours" },
  json: jsonFlag,
} satisfies FlagSpecs;

export const censusHelp: CommandHelp = {
  usage: `pnpm review census --config FILE [--trainable K --kept N] [--json]
    count the model's parameters by part (exact), and the shard per cell with --trainable`,
  flags: censusFlags,
};
export const memoryHelp: CommandHelp = {
  usage: `pnpm review memory --config FILE --trainable K [--kept N] [--gpu NAME] [--micro-batch B --seq S] [--checkpointing]
      [--bytes-weight 2 --bytes-grad 2 --bytes-optimizer 4] [--json]
    GPU memory per cell: weights, gradients, optimizer state, activations, and the GPUs it fits on`,
  flags: memoryFlags,
};
export const throughputHelp: CommandHelp = {
  usage: `pnpm review throughput --gpu-tokens-per-second R --multiplier M --cycle-blocks C --window-hours W [--block-seconds 12] [--json]
    the network's training throughput: tokens a second, hours and tokens per round, rounds in the window`,
  flags: throughputFlags,
};

const count = numberFlag.pipe(z.number().int("must be a whole number").nonnegative("must be 0 or more"));

async function readCensus(path: string): Promise<ParameterCensus> {
  return countParameters(parseModelConfig(await readJsonFile(path, "--config")));
}

export async function censusCommand(argv: string[]): Promise<void> {
  const flags = parseFlags(
    argv,
    censusFlags,
    z
      .object({
        config: z.string({ error: "required: a Hugging Face config.json" }),
        trainable: count.optional(),
        kept: count.optional(),
        json: z.boolean().optional(),
      })
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
  console.log(
    formatTable(
      ["part", "parameters", "exact", "how it's computed"],
      Object.values(f).map((x) => [x.label, formatFigure(x), groupedNumber(x.value), x.formula]),
    ),
  );
  if (shard) {
    console.log(`\nK=${flags.trainable} trainable, N=${flags.kept ?? 0} kept per MoE layer\n`);
    console.log(
      formatTable(
        ["cell", "trainable", "resident (GPU)", "parked (CPU)"],
        cells.map((c) => [c, ...[shard[c].trainable, shard[c].resident, shard[c].parked].map((v) => formatFigure({ value: v, unit: "params" }))]),
      ),
    );
  }
}

export async function memoryCommand(argv: string[]): Promise<void> {
  const flags = parseFlags(
    argv,
    memoryFlags,
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
        return [
          c,
          {
            trainable: m.trainable,
            resident: m.resident,
            parked: m.parked,
            weightsGB: m.weightsGB,
            gradsGB: m.gradsGB,
            optimizerGB: m.optimizerGB,
            activationsGB: m.activationsGB,
            totalGB: m.totalGB,
            fitsOn: m.fitsOn,
            gpu: m.gpu,
            gpusNeeded: m.gpusNeeded,
          },
        ];
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
        return [
          c,
          gb(m.weightsGB),
          gb(m.gradsGB),
          gb(m.optimizerGB),
          gb(m.activationsGB),
          gb(m.totalGB),
          m.fitsOn.join(", ") || "none",
          String(m.gpusNeeded ?? "no fit"),
        ];
      }),
    ),
  );
  console.log(`\nactivations: ${memory.A.figure.activationsGB.formula}`);
}

export async function throughputCommand(argv: string[]): Promise<void> {
  const positive = numberFlag.pipe(z.number().positive("must be greater than 0"));
  const flags = parseFlags(
    argv,
    throughputFlags,
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
  console.log(
    formatTable(
      ["figure", "value", "how it's computed"],
      t.figures.map((f) => [f.label, formatFigure(f), f.formula]),
    ),
  );
}
