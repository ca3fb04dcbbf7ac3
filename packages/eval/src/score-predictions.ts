import { readFile } from "node:fs/promises";
import { z } from "zod";
import { loadGsm8k } from "./data/gsm8k.ts";
import { EvalDataError } from "./errors.ts";
import { GSM8K_COT_STOP, scoreGsm8kCompletion } from "./gsm8k.ts";
import { parseJsonl } from "./jsonl.ts";
import { truncateAtStop } from "./requests.ts";
import { mean, meanStderr } from "./stats.ts";

/** One line of a predictions file: the GSM8K question text and the model's completion for it. */
export const gsm8kPredictionSchema = z.object({
  question: z.string().min(1, "must be the GSM8K question text"),
  completion: z.string(),
});

export interface Gsm8kPredictionScores {
  /** exact_match after the strict-match filter. */
  strict: number;
  strictStderr: number | null;
  /** exact_match after the flexible-extract filter. */
  flexible: number;
  flexibleStderr: number | null;
  /** Predictions scored. */
  n: number;
  /** Questions of the data file with no prediction. */
  missing: number;
}

/**
 * Scores a predictions JSONL against GSM8K data, matching each prediction to its problem by question text.
 * Each completion is cut at the task's stop sequences first, as the harness cuts a generation at `until` before
 * its filters (a server that ignored `stop` would otherwise score an answer from a following made-up question).
 * A question not in the data, or predicted twice, is an error naming its line.
 */
export async function scoreGsm8kPredictions(args: { dataPath: string; predictionsPath: string }): Promise<Gsm8kPredictionScores> {
  const docs = await loadGsm8k(args.dataPath);
  const targetByQuestion = new Map<string, string>();
  for (const d of docs) targetByQuestion.set(d.question, d.target);
  const predictions = parseJsonl(await readFile(args.predictionsPath, "utf8"), args.predictionsPath, gsm8kPredictionSchema);
  if (predictions.length === 0) throw new Error(`${args.predictionsPath}: no predictions`);
  const firstLine = new Map<string, number>();
  const strict: number[] = [];
  const flexible: number[] = [];
  for (const { line, value } of predictions) {
    const target = targetByQuestion.get(value.question);
    if (target === undefined) {
      throw new EvalDataError(args.predictionsPath, line, `field "question": not a question of ${args.dataPath}`);
    }
    const seen = firstLine.get(value.question);
    if (seen !== undefined) {
      throw new EvalDataError(args.predictionsPath, line, `field "question": already predicted on line ${seen}`);
    }
    firstLine.set(value.question, line);
    const s = scoreGsm8kCompletion(truncateAtStop(value.completion, GSM8K_COT_STOP), target);
    strict.push(s.strict.correct ? 1 : 0);
    flexible.push(s.flexible.correct ? 1 : 0);
  }
  const orNull = (x: number): number | null => (Number.isFinite(x) ? x : null);
  return {
    strict: mean(strict),
    strictStderr: orNull(meanStderr(strict)),
    flexible: mean(flexible),
    flexibleStderr: orNull(meanStderr(flexible)),
    n: strict.length,
    missing: targetByQuestion.size - firstLine.size,
  };
}
