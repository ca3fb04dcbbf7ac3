// Requests to the evaluation worker (worker/serve_eval.py, long-lived, one JSON request per stdin line) and the
// NDJSON messages it writes back: the one definition of both. They are emitted into worker/protocol.schema.json
// with the run specs (protocol-schema.ts); the worker validates requests and fills their defaults from it.
import { z } from "zod";
import { PROTOCOL_VERSION, errorCodes, hardwareSchema } from "./messages.ts";

const id = z.number().int().nonnegative();
const tokenIds = z.array(z.number().int().nonnegative());
const batchSize = z.number().int().min(1).default(32);

export const evalLoadRequestSchema = z.object({
  op: z.literal("load"),
  id,
  model_dir: z.string().min(1),
  device: z.enum(["cpu", "cuda"]).default("cuda"),
  dtype: z.enum(["fp32", "bf16"]).default("bf16"),
  experts_impl: z.enum(["auto", "grouped_mm", "segments"]).default("auto"),
  /** base64 of the bytes each token id contributes to decoded text, indexed by id */
  token_bytes: z.array(z.string()).describe("base64 of each token id's bytes"),
});

export const evalGenerateRequestSchema = z.object({
  op: z.literal("generate"),
  id,
  prompts: z.array(tokenIds.min(1)).min(1),
  max_new_tokens: z.number().int().min(1),
  stop: z.array(z.string()).default([]),
  eos_token_ids: tokenIds.default([]),
  batch_size: batchSize,
});

export const evalLoglikelihoodRequestSchema = z.object({
  op: z.literal("loglikelihood"),
  id,
  requests: z.array(z.object({ tokens: tokenIds.min(2), continuation: z.number().int().min(1) })).min(1),
  batch_size: batchSize,
});

export const evalWorkerRequestSchema = z.discriminatedUnion("op", [evalLoadRequestSchema, evalGenerateRequestSchema, evalLoglikelihoodRequestSchema]);
export type EvalWorkerRequest = z.infer<typeof evalWorkerRequestSchema>;

export const evalWorkerMessageSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("hello"), protocol_version: z.literal(PROTOCOL_VERSION), command: z.literal("serve_eval"), hardware: hardwareSchema }),
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
  z.object({ type: z.literal("error"), id: id.nullable(), code: z.enum(errorCodes), message: z.string() }),
]);
export type EvalWorkerMessage = z.infer<typeof evalWorkerMessageSchema>;
export type EvalWorkerModel = Extract<EvalWorkerMessage, { type: "ready" }>["model"];
