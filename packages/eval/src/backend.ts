import type { GenerationRequest, LoglikelihoodRequest, LoglikelihoodResult } from "./requests.ts";

/** Called as requests of one call finish: `done` of `total` requests. */
export type RequestProgress = (done: number, total: number) => void;

/**
 * What an eval needs from a model. Implementations: the OpenAI-compatible completions backend here; a PyTorch
 * worker backend (trainer's tokenizer + worker) can implement the same two calls.
 * - generate: greedy, one string per request in order, stopping at `stop` or after `maxTokens` new tokens.
 * - loglikelihood: per request, the summed log-probability of the continuation's tokens, where those tokens are
 *   taken from the encoding of context + continuation (not of the continuation alone), and whether each was
 *   the argmax.
 */
export interface EvalBackend {
  /** Model / checkpoint label written into every sample and result. */
  readonly label: string;
  generate(requests: readonly GenerationRequest[], onProgress?: RequestProgress): Promise<string[]>;
  loglikelihood(requests: readonly LoglikelihoodRequest[], onProgress?: RequestProgress): Promise<LoglikelihoodResult[]>;
}
