import { pyRstrip } from "./python-str.ts";

/** Greedy generation until a stop sequence or `maxTokens` new tokens. */
export interface GenerationRequest {
  context: string;
  stop: string[];
  maxTokens: number;
}

/** log P(continuation | context), with continuation tokens taken from the joint encoding of context + continuation. */
export interface LoglikelihoodRequest {
  context: string;
  continuation: string;
}

export interface LoglikelihoodResult {
  /** Sum of the continuation tokens' log-probabilities (natural log). */
  logprob: number;
  /** Whether every continuation token was the argmax at its position. */
  isGreedy: boolean;
}

export const TARGET_DELIMITER = " ";

/**
 * A multiple-choice request as the harness builds it: continuation = target_delimiter + choice, then the
 * context's trailing whitespace is moved onto the continuation (its `_encode_pair`).
 */
export function loglikelihoodRequest(context: string, choice: string): LoglikelihoodRequest {
  const continuation = TARGET_DELIMITER + choice;
  const kept = pyRstrip(context);
  return { context: kept, continuation: context.slice(kept.length) + continuation };
}

/** The harness's post-processing of a generation: cut at the first occurrence of each stop sequence. */
export function truncateAtStop(text: string, stop: readonly string[]): string {
  let out = text;
  for (const s of stop) {
    if (s.length === 0) continue;
    const at = out.indexOf(s);
    if (at >= 0) out = out.slice(0, at);
  }
  return out;
}
