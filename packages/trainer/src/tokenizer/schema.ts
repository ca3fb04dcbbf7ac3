import { z } from "zod";

/**
 * zod schemas for the parts of a Hugging Face tokenizer.json (and tokenizer_config.json) this
 * package implements. Component configs are parsed one level at a time so that an unsupported
 * `type` is reported with its exact field path and the list of supported types.
 */
export class TokenizerConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TokenizerConfigError";
  }
}

function fieldPath(base: string, path: readonly PropertyKey[]): string {
  let out = base;
  for (const key of path) out += typeof key === "number" ? `[${key}]` : `.${String(key)}`;
  return out;
}

/** Parses `value` with `schema`, turning zod issues into one error naming each failing field. */
export function parseField<T>(schema: z.ZodType<T>, value: unknown, file: string, base: string): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const lines = result.error.issues.slice(0, 5).map((issue) => `${fieldPath(base, issue.path)}: ${issue.message}`);
  throw new TokenizerConfigError(`${file}: invalid ${base}: ${lines.join("; ")}`);
}

export const SUPPORTED_MODELS = ["BPE"] as const;
export const SUPPORTED_PRE_TOKENIZERS = ["Sequence", "Split", "Digits", "ByteLevel"] as const;
export const SUPPORTED_NORMALIZERS = ["Sequence", "NFC", "NFD", "NFKC", "NFKD"] as const;
export const SUPPORTED_DECODERS = ["ByteLevel"] as const;
export const SUPPORTED_POST_PROCESSORS = ["ByteLevel", "TemplateProcessing", "Sequence"] as const;

/** Checks `value.type` against the supported list before the type's own schema runs. */
export function componentType<const T extends readonly string[]>(value: unknown, supported: T, file: string, field: string): T[number] {
  const parsed = z.object({ type: z.string() }).safeParse(value);
  if (!parsed.success) {
    throw new TokenizerConfigError(`${file}: ${field} must be an object with a string "type" (supported: ${supported.join(", ")})`);
  }
  if (!supported.includes(parsed.data.type)) {
    throw new TokenizerConfigError(`${file}: ${field}.type "${parsed.data.type}" is not supported (supported: ${supported.join(", ")})`);
  }
  return parsed.data.type as T[number];
}

const mergeSchema = z.union([
  z.string().regex(/^[^ ]+ [^ ]+$/u, 'a merge string must be two tokens separated by one space, e.g. "Ġ t"'),
  z.tuple([z.string().min(1), z.string().min(1)]),
]);

export const bpeModelSchema = z.object({
  type: z.literal("BPE"),
  dropout: z.union([z.null(), z.literal(0), z.literal(1)]).optional(),
  unk_token: z.string().nullable().optional(),
  continuing_subword_prefix: z.union([z.null(), z.literal("")]).optional(),
  end_of_word_suffix: z.union([z.null(), z.literal("")]).optional(),
  fuse_unk: z.boolean().optional(),
  byte_fallback: z.literal(false, { error: "byte_fallback is not supported (must be false or absent)" }).optional(),
  ignore_merges: z.boolean().optional(),
  vocab: z.record(z.string(), z.number().int().nonnegative()),
  merges: z.array(mergeSchema),
});
export type BpeModelConfig = z.infer<typeof bpeModelSchema>;

export const splitSchema = z.object({
  type: z.literal("Split"),
  pattern: z.union([z.object({ Regex: z.string() }).strict(), z.object({ String: z.string() }).strict()]),
  behavior: z.enum(["Removed", "Isolated", "MergedWithPrevious", "MergedWithNext", "Contiguous"]),
  invert: z.boolean().default(false),
});
export type SplitConfig = z.infer<typeof splitSchema>;

export const digitsSchema = z.object({
  type: z.literal("Digits"),
  individual_digits: z.boolean().default(false),
});

export const byteLevelPreSchema = z.object({
  type: z.literal("ByteLevel"),
  add_prefix_space: z.boolean().default(true),
  trim_offsets: z.boolean().default(true),
  use_regex: z.boolean().default(true),
});

export const addedTokenSchema = z.object({
  id: z.number().int().nonnegative(),
  content: z.string().min(1),
  single_word: z.boolean().default(false),
  lstrip: z.boolean().default(false),
  rstrip: z.boolean().default(false),
  normalized: z.boolean().default(true),
  special: z.boolean().default(false),
});
export type AddedTokenConfig = z.infer<typeof addedTokenSchema>;

export const templatePieceSchema = z.union([
  z.object({ SpecialToken: z.object({ id: z.string(), type_id: z.number().int() }) }),
  z.object({ Sequence: z.object({ id: z.enum(["A", "B"]), type_id: z.number().int() }) }),
]);

export const templateProcessingSchema = z.object({
  type: z.literal("TemplateProcessing"),
  single: z.array(templatePieceSchema),
  special_tokens: z.record(z.string(), z.object({ id: z.string(), ids: z.array(z.number().int().nonnegative()), tokens: z.array(z.string()) })),
});

/** Top level; components stay `unknown` here and are parsed by their builders. */
export const tokenizerJsonSchema = z.object({
  version: z.string().optional(),
  added_tokens: z.array(addedTokenSchema).default([]),
  normalizer: z.unknown().nullable().default(null),
  pre_tokenizer: z.unknown().nullable().default(null),
  post_processor: z.unknown().nullable().default(null),
  decoder: z.unknown().nullable().default(null),
  model: z.unknown(),
});

const tokenRefSchema = z.union([z.string(), z.object({ content: z.string() }).loose()]).nullable();

/** The tokenizer_config.json fields that decide special tokens at encode time. */
export const tokenizerConfigSchema = z
  .object({
    add_bos_token: z.boolean().optional(),
    add_eos_token: z.boolean().optional(),
    bos_token: tokenRefSchema.optional(),
    eos_token: tokenRefSchema.optional(),
    pad_token: tokenRefSchema.optional(),
  })
  .loose();
export type TokenizerConfigJson = z.infer<typeof tokenizerConfigSchema>;

export function tokenRefContent(ref: TokenizerConfigJson["bos_token"]): string | null {
  if (ref === undefined || ref === null) return null;
  return typeof ref === "string" ? ref : ref.content;
}
