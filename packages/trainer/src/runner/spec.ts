// The run spec a user gives (`pnpm review train` flags), validated with zod before anything runs.
import { trainedCells, type TrainedCell } from "@subnet-review/core";
import { z } from "zod";
import { ROUTING_MODES, TRAIN_DEFAULTS, type RoutingMode } from "../worker/messages.ts";

/** A number given as a number or as flag text ("500", "1e-5"); zod then checks its range. */
const NUMBER_TEXT = /^-?\d+(\.\d+)?(e[+-]?\d+)?$/i;
const num = z.preprocess((v) => (typeof v === "string" && NUMBER_TEXT.test(v) ? Number(v) : v), z.number({ error: "must be a number" }));
const int = (min: number, max: number, what: string) =>
  num.pipe(z.number().int(`must be a whole number (${what})`).min(min, `must be at least ${min} (${what})`).max(max, `must be at most ${max} (${what})`));
const real = (min: number, max: number, what: string) =>
  num.pipe(z.number().gt(min, `must be greater than ${min} (${what})`).lte(max, `must be at most ${max} (${what})`));
const text = (what: string) => z.string({ error: `is required: ${what}` }).min(1, `is required: ${what}`);

export const routingHelp =
  "--routing subnet|renormalized (cells A and B; default subnet, as subnet 102's miners route) --top-k K (experts per token in training; default the model's num_experts_per_tok; the subnet's miners train with partial_topk = 1, its full model uses full_topk = 2)";

/** Flag names as the CLI spells them, so a zod issue path names the flag. */
export const runFlagsSchema = z
  .object({
    model: text("a local Hugging Face checkpoint directory (config.json, *.safetensors, tokenizer.json)"),
    data: text("an SFT JSONL file (question/answer, prompt/response or chat messages)"),
    tokenizer: z.string().min(1).optional(),
    cell: z.enum(trainedCells, { error: "must be A, B or C" }),
    "trainable-experts": text('"top-k:K", "esft-gate:P", "esft-token:P", "subnet:PATH" (a subnet expert_assignment.json) or an ESFT expert-config JSON path'),
    kept: int(0, 4096, "N frozen resident experts per layer, cell B").default(TRAIN_DEFAULTS.kept),
    routing: z.enum(ROUTING_MODES, { error: "must be subnet or renormalized" }).optional(),
    "top-k": int(1, 4096, "experts per token in training; default the model's num_experts_per_tok").optional(),
    steps: int(1, 10_000_000, "optimizer steps"),
    batch: int(1, 65_536, "sequences per step").default(4),
    seq: int(2, 1 << 20, "tokens per sequence").default(2048),
    lr: real(0, 1, "AdamW learning rate").default(TRAIN_DEFAULTS.lr),
    "weight-decay": num.pipe(z.number().min(0).max(1)).default(TRAIN_DEFAULTS.weight_decay),
    device: z.enum(["cuda", "cpu"], { error: "must be cuda or cpu" }).default(TRAIN_DEFAULTS.device),
    dtype: z.enum(["bf16", "fp32"], { error: "must be bf16 or fp32" }).optional(),
    "optimizer-state": z.enum(["bf16", "fp32"], { error: "must be bf16 or fp32" }).optional(),
    "no-checkpointing": z.boolean().default(false),
    "checkpoint-every": int(0, 10_000_000, "steps between resumable checkpoints; 0: only the final adapter").default(TRAIN_DEFAULTS.checkpoint_every),
    "score-tokens": int(1, 1 << 30, "tokens scored for ESFT expert selection").default(TRAIN_DEFAULTS.score_tokens),
    seed: int(0, 0xffffffff, "data order and stochastic rounding").default(TRAIN_DEFAULTS.seed),
    python: z.string().min(1).optional(),
    out: z.string().min(1).default("runs"),
    "peak-tflops": real(0, 100_000, "the GPU's dense bf16 peak for MFU, if not in the built-in table").optional(),
    experiment: z
      .string()
      .regex(/^[a-z0-9][a-z0-9._-]{0,99}$/, "an experiment name: lowercase letters, digits, '.', '_' and '-'")
      .optional(),
    api: z.url({ error: "must be the API's base URL, e.g. http://127.0.0.1:4000" }).optional(),
    token: z.string().min(1).optional(),
  })
  .superRefine((f, ctx) => {
    if (f.cell === "B" && f.kept < 1) ctx.addIssue({ code: "custom", path: ["kept"], message: "cell B needs --kept N >= 1 frozen resident experts per layer" });
    if (f.cell === "C" && f.routing)
      ctx.addIssue({ code: "custom", path: ["routing"], message: "applies to cells A and B (restricted routing); cell C routes naturally over all experts" });
    if (f.api && !f.token)
      ctx.addIssue({
        code: "custom",
        path: ["token"],
        message: "is required with --api: runs are written through the API with a token from `pnpm review token create`",
      });
    if (f.token && !f.api) ctx.addIssue({ code: "custom", path: ["api"], message: "is required with --token: the API's base URL" });
    if (f.experiment && !f.api)
      ctx.addIssue({ code: "custom", path: ["api"], message: "is required with --experiment: the run is attached to the experiment through the API" });
  });
export type RunFlags = z.output<typeof runFlagsSchema>;

/** What a run needs, resolved from the flags (paths absolute, defaults by device). Saved as run.json. */
export interface RunSpec {
  model: string;
  data: string;
  tokenizer: string;
  cell: TrainedCell;
  trainableExperts: string;
  kept: number;
  /** restricted routing of cells A and B (cell C routes naturally) */
  routingMode: RoutingMode;
  /** experts per token in training; null: the model's num_experts_per_tok */
  topK: number | null;
  steps: number;
  batch: number;
  seq: number;
  lr: number;
  weightDecay: number;
  device: "cuda" | "cpu";
  dtype: "bf16" | "fp32";
  optimizerStateDtype: "bf16" | "fp32";
  activationCheckpointing: boolean;
  checkpointEvery: number;
  scoreTokens: number;
  seed: number;
  peakTflops: number | null;
}

export const runSpecSchema: z.ZodType<RunSpec> = z.object({
  model: z.string().min(1),
  data: z.string().min(1),
  tokenizer: z.string().min(1),
  cell: z.enum(trainedCells),
  trainableExperts: z.string().min(1),
  kept: z.number().int().min(0),
  // run.json files written before these existed routed the renormalized way with the config's k
  routingMode: z.enum(ROUTING_MODES).default("renormalized"),
  topK: z.number().int().min(1).nullable().default(null),
  steps: z.number().int().min(1),
  batch: z.number().int().min(1),
  seq: z.number().int().min(2),
  lr: z.number().gt(0).lte(1),
  weightDecay: z.number().min(0).lte(1),
  device: z.enum(["cuda", "cpu"]),
  dtype: z.enum(["bf16", "fp32"]),
  optimizerStateDtype: z.enum(["bf16", "fp32"]),
  activationCheckpointing: z.boolean(),
  checkpointEvery: z.number().int().min(0),
  scoreTokens: z.number().int().min(1),
  seed: z.number().int().min(0),
  peakTflops: z.number().positive().nullable(),
});

/** Flags -> spec: paths through `resolvePath` (the user's cwd), bf16 on the GPU and fp32 on the CPU unless set. */
export function runSpecFromFlags(f: RunFlags, resolvePath: (p: string) => string): RunSpec {
  const dtype = f.dtype ?? (f.device === "cuda" ? "bf16" : "fp32");
  const model = resolvePath(f.model);
  return {
    model,
    data: resolvePath(f.data),
    tokenizer: f.tokenizer ? resolvePath(f.tokenizer) : model,
    cell: f.cell,
    // a path keeps its text for run.json and is resolved here once
    trainableExperts: trainableExpertsText(f["trainable-experts"], resolvePath),
    kept: f.kept,
    routingMode: f.routing ?? TRAIN_DEFAULTS.routing,
    topK: f["top-k"] ?? null,
    steps: f.steps,
    batch: f.batch,
    seq: f.seq,
    lr: f.lr,
    weightDecay: f["weight-decay"],
    device: f.device,
    dtype,
    optimizerStateDtype: f["optimizer-state"] ?? dtype,
    activationCheckpointing: !f["no-checkpointing"],
    checkpointEvery: f["checkpoint-every"],
    scoreTokens: f["score-tokens"],
    seed: f.seed,
    peakTflops: f["peak-tflops"] ?? null,
  };
}

function trainableExpertsText(text: string, resolvePath: (p: string) => string): string {
  if (/^(top-k|esft-gate|esft-token):/.test(text)) return text;
  const subnet = /^subnet:(.+)$/.exec(text);
  return subnet ? `subnet:${resolvePath(subnet[1]!)}` : resolvePath(text);
}

/** `pnpm review experiment`: the train flags without --cell (it runs A, B and C; B needs --kept), plus a name. */
export const experimentFlagsSchema = z.preprocess(
  (v) => ({ ...(v as object), cell: "B" }),
  z.intersection(
    runFlagsSchema,
    z.object({
      name: z
        .string({ error: "is required: the experiment's name (the review shows the experiment it is attached to)" })
        .regex(/^[a-z0-9][a-z0-9._-]{0,99}$/, "lowercase letters, digits, '.', '_' and '-', at most 100"),
      description: z.string().min(1).max(4000).optional(),
    }),
  ),
);
export type ExperimentFlags = z.output<typeof experimentFlagsSchema>;
