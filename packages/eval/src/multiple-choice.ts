import { pyLen } from "./python-str.ts";

export interface MultipleChoiceScore {
  /** argmax of the loglikelihoods (first on ties, as numpy). */
  pred: number;
  /** argmax of loglikelihood / character length of the choice. */
  predNorm: number;
  acc: 0 | 1;
  accNorm: 0 | 1;
}

function argmax(xs: readonly number[]): number {
  let best = 0;
  for (let i = 1; i < xs.length; i++) if (xs[i]! > xs[best]!) best = i;
  return best;
}

/**
 * acc and acc_norm as the harness scores a multiple_choice doc: the length in acc_norm is `len(choice)` in
 * characters of the choice text itself (without the leading target delimiter).
 */
export function scoreMultipleChoice(loglikelihoods: readonly number[], choices: readonly string[], gold: number): MultipleChoiceScore {
  if (loglikelihoods.length !== choices.length) {
    throw new Error(`scoreMultipleChoice: ${loglikelihoods.length} loglikelihoods for ${choices.length} choices`);
  }
  const pred = argmax(loglikelihoods);
  const predNorm = argmax(loglikelihoods.map((ll, i) => ll / pyLen(choices[i]!)));
  return { pred, predNorm, acc: pred === gold ? 1 : 0, accNorm: predNorm === gold ? 1 : 0 };
}
