import { z } from "zod";
import { readJsonl } from "../jsonl.ts";

/** One line of rowanz/hellaswag `hellaswag_val.jsonl` (the original release). */
export const hellaswagRecordSchema = z.object({
  ind: z.number().int(),
  activity_label: z.string(),
  ctx_a: z.string(),
  ctx_b: z.string(),
  endings: z.array(z.string()).length(4, "must hold exactly 4 endings"),
  // The original release stores an int; the HF copy a digit string. Both mean the index of the right ending.
  label: z
    .union([z.number().int(), z.string().regex(/^[0-3]$/)])
    .transform(Number)
    .pipe(z.number().int().min(0, "must be 0-3").max(3, "must be 0-3")),
});

export interface HellaswagRecord {
  ind: number;
  activity_label: string;
  ctx_a: string;
  ctx_b: string;
  endings: string[];
  label: number;
}

export async function loadHellaswag(file: string): Promise<HellaswagRecord[]> {
  const rows = await readJsonl(file, hellaswagRecordSchema);
  return rows.map(({ value }) => value);
}
