// Requests to and messages from the trainer's evaluation worker (packages/trainer/worker/serve_eval.py).
// Mirrors that file: change both together.
import { hardwareSchema } from "@subnet-review/trainer";
import { z } from "zod";

export const EVAL_PROTOCOL_VERSION = 1;

const id = z.number().int().nonnegative();
const tokenIds = z.array(z.number().int().nonnegative());

export const evalWorkerErrorCodes = [
  "bad_spec", "file_not_found", "bad_checkpoint", "unsupported_model", "bad_experts",
  "bad_data", "no_gpu", "out_of_memory", "diverged", "internal",
] as const;

export const loadRequestSchema = z.object({
  op: z.literal("load"),
  id,
  model_dir: z.string().min(1),
  device: z.enum(["cpu", "cuda"]),
  dtype: z.enum(["fp32", "bf16"]),
  experts_impl: z.enum(["auto", "grouped_mm", "segments"]),
  /** base64 of the bytes each token id contributes to decoded text, indexed by id */
  token_bytes: z.array(z.string()),
});

export const generateRequestSchema = z.object({
  op: z.literal("generate"),
  id,
  prompts: z.array(tokenIds.min(1)).min(1),
  max_new_tokens: z.number().int().min(1),
  stop: z.array(z.string()),
  eos_token_ids: tokenIds,
  batch_size: z.number().int().min(1),
});

export const loglikelihoodRequestSchema = z.object({
  op: z.literal("loglikelihood"),
  id,
  requests: z.array(z.object({ tokens: tokenIds.min(2), continuation: z.number().int().min(1) })).min(1),
  batch_size: z.number().int().min(1),
});

export const evalWorkerRequestSchema = z.discriminatedUnion("op", [loadRequestSchema, generateRequestSchema, loglikelihoodRequestSchema]);
export type EvalWorkerRequest = z.infer<typeof evalWorkerRequestSchema>;

export const evalWorkerMessageSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("hello"), protocol_version: z.literal(EVAL_PROTOCOL_VERSION), command: z.literal("serve_eval"), hardware: hardwareSchema }),
  z.object({
    type: z.literal("ready"),
    id,
    model: z.object({
      vocab_size: z.number().int().min(1),
      max_positions: z.number().int().min(2),
      eos_token_id: z.number().int().nonnegative().nullable(),
      device: z.enum(["cpu", "cuda"]),
      dtype: z.enum(["fp32", "bf16"]),
      experts_impl: z.enum(["grouped_mm", "segments"]),
      kv_cache: z.literal("mla_latent"),
    }),
  }),
  z.object({ type: z.literal("progress"), id, done: z.number().int().nonnegative(), total: z.number().int().nonnegative() }),
  z.object({
    type: z.literal("generated"),
    id,
    results: z.array(z.object({ tokens: tokenIds, finish: z.enum(["stop", "eos", "length"]) })),
  }),
  z.object({
    type: z.literal("loglikelihoods"),
    id,
    results: z.array(z.object({ logprob: z.number(), is_greedy: z.boolean() })),
  }),
  z.object({ type: z.literal("error"), id: id.nullable(), code: z.enum(evalWorkerErrorCodes), message: z.string() }),
]);
export type EvalWorkerMessage = z.infer<typeof evalWorkerMessageSchema>;
export type EvalWorkerModel = Extract<EvalWorkerMessage, { type: "ready" }>["model"];
