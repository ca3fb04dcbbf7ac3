// Run specs sent to the Python worker and the NDJSON messages it writes back: the one definition of both.
// worker/protocol.schema.json is emitted from these (protocol-schema.ts) and the worker validates against it;
// the evaluation worker's requests and messages are in eval-messages.ts.
import { trainedCells } from "@subnet-review/core";
import { z } from "zod";

export const PROTOCOL_VERSION = 1;

/** Restricted routing of cells A and B (worker/routing.py): the subnet's (softmax over all experts, then the
 * allowed experts' probabilities as they are) or the softmax renormalised over the allowed experts. */
export const ROUTING_MODES = ["subnet", "renormalized"] as const;
export type RoutingMode = (typeof ROUTING_MODES)[number];

/** The defaults a run takes when not told otherwise, here and in the CLI's flags (runner/spec.ts). */
export const TRAIN_DEFAULTS = {
  kept: 0,
  score_tokens: 131_072,
  lr: 1e-5,
  weight_decay: 0.1,
  device: "cuda",
  checkpoint_every: 0,
  seed: 0,
  routing: "subnet",
} as const;

const expertIds = z.array(z.number().int().nonnegative());
/** ESFT's expert config: {"experts": {"<layer>": [ids]}}. */
export const expertConfigSchema = z.object({ experts: z.record(z.string().regex(/^\d+$/), expertIds) });

export const expertSelectionSchema = z.discriminatedUnion("method", [
  z.object({ method: z.enum(["esft_gate", "esft_token"]), top_p: z.number().gt(0).lte(1) }),
  z.object({ method: z.literal("top_k"), k: z.number().int().min(1), score: z.enum(["gate", "token"]).default("token") }),
  z.object({ method: z.literal("explicit"), experts: expertConfigSchema.shape.experts }),
]);

export const trainSpecSchema = z
  .object({
    command: z.literal("train"),
    model_dir: z.string().min(1),
    data: z.string().min(1).describe("the path of a packed-sequences descriptor (.json), see writePackedSequences"),
    output_dir: z.string().min(1),
    cell: z.enum(trainedCells),
    experts: expertSelectionSchema,
    kept: z.number().int().nonnegative().default(TRAIN_DEFAULTS.kept),
    steps: z.number().int().min(1),
    batch_size: z.number().int().min(1),
    score_tokens: z.number().int().min(1).default(TRAIN_DEFAULTS.score_tokens),
    lr: z.number().gt(0).lte(1).default(TRAIN_DEFAULTS.lr),
    betas: z.tuple([z.number().min(0).lt(1), z.number().min(0).lt(1)]).default([0.9, 0.95]),
    weight_decay: z.number().min(0).lte(1).default(TRAIN_DEFAULTS.weight_decay),
    grad_clip: z.number().gt(0).default(1.0),
    schedule: z.enum(["constant", "cosine"]).default("constant"),
    warmup_steps: z.number().int().nonnegative().default(0),
    optimizer_state_dtype: z.enum(["bf16", "fp32"]).default("bf16"),
    dtype: z.enum(["bf16", "fp32"]).default("bf16"),
    device: z.enum(["cuda", "cpu"]).default(TRAIN_DEFAULTS.device),
    activation_checkpointing: z.boolean().default(true),
    experts_impl: z.enum(["auto", "grouped_mm", "segments"]).default("auto"),
    ce_chunk_tokens: z.number().int().min(1).default(4096),
    checkpoint_every: z.number().int().nonnegative().default(TRAIN_DEFAULTS.checkpoint_every).describe("0: only the final adapter"),
    resume: z.boolean().default(false),
    seed: z.number().int().nonnegative().default(TRAIN_DEFAULTS.seed),
    /** restricted routing of cells A and B (worker/routing.py); cell C routes naturally */
    routing: z.enum(ROUTING_MODES).default(TRAIN_DEFAULTS.routing),
    top_k: z.number().int().min(1).nullable().default(null).describe("experts per token in training; null: the config's num_experts_per_tok"),
  })
  .strict()
  .superRefine((s, ctx) => {
    if (s.cell === "B" && s.kept < 1) ctx.addIssue({ code: "custom", path: ["kept"], message: "cell B needs kept >= 1 frozen resident experts per layer" });
    if (s.cell !== "B" && s.kept !== 0) ctx.addIssue({ code: "custom", path: ["kept"], message: `kept must be 0 for cell ${s.cell}` });
  });

export const mergeSpecSchema = z
  .object({ command: z.literal("merge"), base_dir: z.string().min(1), adapter_dir: z.string().min(1), output_dir: z.string().min(1) })
  .strict();

/** Resolves an expert selection to explicit ids once (ESFT scores over the data) so several cells share it. */
export const selectSpecSchema = z
  .object({
    command: z.literal("select"),
    model_dir: z.string().min(1),
    data: z.string().min(1),
    experts: expertSelectionSchema,
    batch_size: z.number().int().min(1),
    score_tokens: z.number().int().min(1).default(TRAIN_DEFAULTS.score_tokens),
    dtype: z.enum(["bf16", "fp32"]).default("bf16"),
    device: z.enum(["cuda", "cpu"]).default(TRAIN_DEFAULTS.device),
    experts_impl: z.enum(["auto", "grouped_mm", "segments"]).default("auto"),
    seed: z.number().int().nonnegative().default(TRAIN_DEFAULTS.seed),
  })
  .strict();

export const workerSpecSchema = z.discriminatedUnion("command", [trainSpecSchema, selectSpecSchema, mergeSpecSchema]);
export type TrainSpecInput = z.input<typeof trainSpecSchema>;
export type TrainSpec = z.output<typeof trainSpecSchema>;
export type MergeSpec = z.output<typeof mergeSpecSchema>;
export type SelectSpecInput = z.input<typeof selectSpecSchema>;
export type WorkerSpec = z.output<typeof workerSpecSchema>;

export const errorCodes = [
  "bad_spec",
  "file_not_found",
  "bad_checkpoint",
  "unsupported_model",
  "bad_experts",
  "bad_data",
  "no_gpu",
  "out_of_memory",
  "diverged",
  "internal",
] as const;

const count = z.number().int().nonnegative();
const layerMap = z.record(z.string(), expertIds);

export const hardwareSchema = z.object({
  device: z.enum(["cuda", "cpu"]),
  device_name: z.string(),
  gpu_memory_total_bytes: count.nullable(),
  torch_version: z.string(),
  cuda_version: z.string().nullable(),
  python_version: z.string(),
  cpu_count: count,
  grouped_mm: z.boolean(),
  platform: z.string(),
});

export const helloMessageSchema = z.object({
  type: z.literal("hello"),
  protocol_version: z.literal(PROTOCOL_VERSION),
  command: z.string(),
  hardware: hardwareSchema,
});

const scoreTable = z.record(z.string(), z.array(z.number()));
export const readyMessageSchema = z.object({
  type: z.literal("ready"),
  run: z.object({
    cell: z.enum(trainedCells),
    start_step: count,
    steps: count,
    resumed_from: z.string().nullable(),
    experts_impl: z.enum(["grouped_mm", "segments"]),
    /** the training forward's routing; k is clamped to the resident count in the layers `clamped` lists.
     * Absent in logs written before the worker reported it. */
    routing: z
      .object({ mode: z.enum(["subnet", "renormalized", "natural"]), top_k: z.number().int().min(1), clamped: z.record(z.string(), z.number().int().min(1)) })
      .optional(),
    dtype: z.enum(["bf16", "fp32"]),
    device: z.enum(["cuda", "cpu"]),
    trainable: layerMap,
    kept: layerMap,
    parked_per_layer: z.record(z.string(), count),
    params: z.object({ total: count, resident: count, trainable: count }),
    scores: z.object({ tokens: count, gate: scoreTable, token: scoreTable }).nullable(),
  }),
});

export const stepMessageSchema = z.object({
  type: z.literal("step"),
  step: z.number().int().min(1),
  loss: z.number(),
  grad_norm: z.number().nonnegative(),
  lr: z.number().nonnegative(),
  tokens: count,
  target_tokens: count,
  tokens_per_s: z.number().nonnegative(),
  step_time_s: z.number().nonnegative(),
  gpu_mem_allocated_bytes: count.nullable(),
  gpu_mem_peak_bytes: count.nullable(),
});

export const checkpointMessageSchema = z.object({ type: z.literal("checkpoint"), step: z.number().int().min(1), path: z.string() });

export const trainResultSchema = z.object({
  steps: count,
  final_loss: z.number().nullable(),
  adapter_dir: z.string(),
  /** tokens routed to each global expert id over the whole run, per MoE layer */
  expert_tokens: z.record(z.string(), z.array(count)),
});
export const mergeResultSchema = z.object({ output_dir: z.string(), replaced: count, copied: count, files: count });
export const selectResultSchema = z.object({
  /** trainable expert ids per MoE layer, as ESFT's expert config holds them */
  experts: layerMap,
  scores: z.object({ tokens: count, gate: scoreTable, token: scoreTable }).nullable(),
});

export const doneMessageSchema = z.discriminatedUnion("command", [
  z.object({ type: z.literal("done"), command: z.literal("train"), result: trainResultSchema }),
  z.object({ type: z.literal("done"), command: z.literal("merge"), result: mergeResultSchema }),
  z.object({ type: z.literal("done"), command: z.literal("select"), result: selectResultSchema }),
]);

export const errorMessageSchema = z.object({ type: z.literal("error"), code: z.enum(errorCodes), message: z.string() });

export const workerMessageSchema = z.union([
  helloMessageSchema,
  readyMessageSchema,
  stepMessageSchema,
  checkpointMessageSchema,
  doneMessageSchema,
  errorMessageSchema,
]);

export type WorkerMessage = z.infer<typeof workerMessageSchema>;
export type StepMessage = z.infer<typeof stepMessageSchema>;
export type DoneMessage = z.infer<typeof doneMessageSchema>;
export type WorkerErrorCode = (typeof errorCodes)[number];
