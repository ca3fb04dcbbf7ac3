import { join } from "node:path";
import { z } from "zod";
import { loadArc } from "../data/arc.ts";
import { loadGsm8k } from "../data/gsm8k.ts";
import { loadHellaswag } from "../data/hellaswag.ts";
import { loadMmlu } from "../data/mmlu.ts";
import { GSM8K_COT_MAX_TOKENS, GSM8K_COT_STOP, gsm8kCotPrompt } from "../gsm8k.ts";
import type { GenerationRequest } from "../requests.ts";
import { arcQuery } from "./arc.ts";
import { HELLASWAG_SAMPLE_NOTE, hellaswagDoc } from "./hellaswag.ts";
import { mmluPrompt } from "./mmlu.ts";

export const taskNames = ["gsm8k_cot", "mmlu", "arc_challenge", "hellaswag"] as const;
export const taskNameSchema = z.enum(taskNames, {
  message: `task must be one of ${taskNames.join(", ")}`,
});
export type TaskName = (typeof taskNames)[number];

/** Where each task's data sits under the data directory (the layout of /work/shared/data). */
export const taskDataPaths: Record<TaskName, string> = {
  gsm8k_cot: "gsm8k/test.jsonl",
  mmlu: "mmlu",
  arc_challenge: "arc/ARC-Challenge-Test.jsonl",
  hellaswag: "hellaswag/hellaswag_val_sample1000.jsonl",
};

export const defaultMmluFewshot = 5;

export interface GenerationItem {
  kind: "generate";
  docIndex: number;
  request: GenerationRequest;
  /** The reference answer the filters' output is compared with. */
  target: string;
}

export interface ChoiceItem {
  kind: "choice";
  docIndex: number;
  subject?: string;
  context: string;
  choices: string[];
  gold: number;
}

export type EvalItem = GenerationItem | ChoiceItem;

export interface EvalTask {
  name: TaskName;
  /** Metric names, each the mean of a per-sample 0/1 `correct[name]`. */
  metrics: readonly string[];
  items: EvalItem[];
  /** A caveat every result of this task carries. */
  note?: string;
}

export interface LoadTaskOptions {
  dataDir: string;
  /** First `limit` docs (for mmlu: per subject, as the harness applies --limit per subtask). */
  limit?: number;
  /** mmlu only; 5 by default. */
  numFewshot?: number;
}

export const taskMetrics: Record<TaskName, readonly string[]> = {
  gsm8k_cot: ["strict-match", "flexible-extract"],
  mmlu: ["acc"],
  arc_challenge: ["acc", "acc_norm"],
  hellaswag: ["acc", "acc_norm"],
};

function take<T>(xs: T[], limit: number | undefined): T[] {
  return limit === undefined ? xs : xs.slice(0, limit);
}

export async function loadEvalTask(name: TaskName, options: LoadTaskOptions): Promise<EvalTask> {
  const { dataDir, limit } = options;
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 1)) {
    throw new Error(`limit must be a positive integer, got ${limit}`);
  }
  const path = join(dataDir, taskDataPaths[name]);
  const metrics = taskMetrics[name];
  switch (name) {
    case "gsm8k_cot": {
      const docs = take(await loadGsm8k(path), limit);
      const items = docs.map(
        (doc, docIndex): EvalItem => ({
          kind: "generate",
          docIndex,
          request: { context: gsm8kCotPrompt(doc.question), stop: [...GSM8K_COT_STOP], maxTokens: GSM8K_COT_MAX_TOKENS },
          target: doc.target,
        }),
      );
      return { name, metrics, items };
    }
    case "arc_challenge": {
      const docs = take(await loadArc(path), limit);
      const items = docs.map(
        (doc, docIndex): EvalItem => ({ kind: "choice", docIndex, context: arcQuery(doc.question), choices: doc.choices, gold: doc.gold }),
      );
      return { name, metrics, items };
    }
    case "hellaswag": {
      const records = take(await loadHellaswag(path), limit);
      const items = records.map((rec, docIndex): EvalItem => {
        const doc = hellaswagDoc(rec);
        return { kind: "choice", docIndex, context: doc.query, choices: doc.choices, gold: doc.gold };
      });
      return { name, metrics, items, note: HELLASWAG_SAMPLE_NOTE };
    }
    case "mmlu": {
      const numFewshot = options.numFewshot ?? defaultMmluFewshot;
      const subjects = await loadMmlu(path);
      const items: EvalItem[] = [];
      // docIndex counts over all subjects in sorted order, so a (task, docIndex) key names one question.
      let docIndex = 0;
      for (const { subject, dev, test } of subjects) {
        test.forEach((doc, i) => {
          if (limit === undefined || i < limit) {
            items.push({
              kind: "choice",
              docIndex,
              subject,
              context: mmluPrompt(subject, dev, doc, numFewshot),
              choices: ["A", "B", "C", "D"],
              gold: doc.gold,
            });
          }
          docIndex++;
        });
      }
      return { name, metrics, items };
    }
  }
}
