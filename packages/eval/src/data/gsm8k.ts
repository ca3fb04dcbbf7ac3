import { z } from "zod";
import { readJsonl } from "../jsonl.ts";
import { pyStrip } from "../python-str.ts";

/** One line of openai/grade-school-math `{test,train}.jsonl`. */
export const gsm8kRecordSchema = z.object({
  question: z.string().min(1, "must be a non-empty string"),
  answer: z.string().refine((a) => a.includes("####"), { message: 'must contain "####" followed by the final answer' }),
});

export interface Gsm8kDoc {
  question: string;
  /** The full worked solution as published. */
  answer: string;
  /** The harness's reference: `answer.split('####')[-1].strip()`. */
  target: string;
}

export function gsm8kTarget(answer: string): string {
  const parts = answer.split("####");
  return pyStrip(parts[parts.length - 1]!);
}

export async function loadGsm8k(file: string): Promise<Gsm8kDoc[]> {
  const rows = await readJsonl(file, gsm8kRecordSchema);
  return rows.map(({ value }) => ({ question: value.question, answer: value.answer, target: gsm8kTarget(value.answer) }));
}
