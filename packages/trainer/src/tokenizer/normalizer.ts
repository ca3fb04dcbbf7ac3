import { z } from "zod";
import { SUPPORTED_NORMALIZERS, componentType, parseField } from "./schema.ts";

/** A text -> text normalizer; `null` config (DeepSeek, GPT-2, Llama-3) means identity. */
export type Normalizer = (text: string) => string;

const sequenceSchema = z.object({ type: z.literal("Sequence"), normalizers: z.array(z.unknown()) });

export function buildNormalizer(config: unknown, file: string, field = "normalizer"): Normalizer | null {
  if (config === null || config === undefined) return null;
  const type = componentType(config, SUPPORTED_NORMALIZERS, file, field);
  switch (type) {
    case "Sequence": {
      const seq = parseField(sequenceSchema, config, file, field);
      const parts = seq.normalizers.map((n, i) => buildNormalizer(n, file, `${field}.normalizers[${i}]`)).filter((n): n is Normalizer => n !== null);
      if (parts.length === 0) return null;
      return (text) => parts.reduce((acc, n) => n(acc), text);
    }
    case "NFC":
    case "NFD":
    case "NFKC":
    case "NFKD":
      return (text) => text.normalize(type);
  }
}
