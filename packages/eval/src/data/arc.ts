import { z } from "zod";
import { readJsonl } from "../jsonl.ts";

/** One line of the AI2 ARC JSONL release (ARC-V1-Feb2018); labels are letters ("A".."E") or digits ("1".."5"). */
export const arcRecordSchema = z
  .object({
    id: z.string().min(1),
    question: z.object({
      stem: z.string(),
      choices: z.array(z.object({ text: z.string(), label: z.string().min(1) })).min(2, "must hold at least 2 choices"),
    }),
    answerKey: z.string().min(1),
  })
  .superRefine((rec, ctx) => {
    const labels = rec.question.choices.map((c) => c.label);
    if (!labels.includes(rec.answerKey)) {
      ctx.addIssue({
        code: "custom",
        path: ["answerKey"],
        message: `must be one of the choice labels (${labels.join(", ")}), got ${JSON.stringify(rec.answerKey)}`,
      });
    }
  });

export interface ArcDoc {
  id: string;
  question: string;
  choices: string[];
  labels: string[];
  /** The harness's `choices.label.index(answerKey)`. */
  gold: number;
}

export async function loadArc(file: string): Promise<ArcDoc[]> {
  const rows = await readJsonl(file, arcRecordSchema);
  return rows.map(({ value }) => {
    const labels = value.question.choices.map((c) => c.label);
    return {
      id: value.id,
      question: value.question.stem,
      choices: value.question.choices.map((c) => c.text),
      labels,
      gold: labels.indexOf(value.answerKey),
    };
  });
}
