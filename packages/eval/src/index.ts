export { EvalDataError } from "./errors.ts";
export { parseCsv, CsvSyntaxError, type CsvRecord } from "./csv.ts";
export { parseJsonl, readJsonl, type NumberedRecord } from "./jsonl.ts";
export { pyCapitalize, pyLen, pyRstrip, pyStrip } from "./python-str.ts";

export { loadGsm8k, gsm8kTarget, gsm8kRecordSchema, type Gsm8kDoc } from "./data/gsm8k.ts";
export { loadArc, arcRecordSchema, type ArcDoc } from "./data/arc.ts";
export { loadHellaswag, hellaswagRecordSchema, type HellaswagRecord } from "./data/hellaswag.ts";
export { loadMmlu, loadMmluCsv, listMmluSubjects, mmluRowSchema, type MmluDoc, type MmluSubjectData } from "./data/mmlu.ts";

export {
  GSM8K_COT_EXEMPLARS,
  GSM8K_COT_MAX_TOKENS,
  GSM8K_COT_STOP,
  INVALID_ANSWER,
  extractFlexible,
  extractStrict,
  gsm8kCotPrompt,
  gsm8kCotQuery,
  scoreGsm8kCompletion,
  type Gsm8kScore,
} from "./gsm8k.ts";
export { exactMatch, normalizeForExactMatch, gsm8kExactMatchOptions, type ExactMatchOptions } from "./exact-match.ts";
export { scoreMultipleChoice, type MultipleChoiceScore } from "./multiple-choice.ts";
export { mean, meanStderr, pooledSampleStderr } from "./stats.ts";
export * from "./tasks/index.ts";

export {
  TARGET_DELIMITER,
  loglikelihoodRequest,
  truncateAtStop,
  type GenerationRequest,
  type LoglikelihoodRequest,
  type LoglikelihoodResult,
} from "./requests.ts";
export type { EvalBackend, RequestProgress } from "./backend.ts";
export {
  completionResponseSchema,
  createOpenAiCompletionsBackend,
  openAiCompletionsOptionsSchema,
  type OpenAiCompletionsOptions,
} from "./openai-completions.ts";
export { CompletionsHttpError, MissingServerCapabilityError, firstServedModel, openAiUrl } from "./openai-server.ts";
export { EchoMismatchError, alignEchoedPrompt, continuationLoglikelihood, echoLogprobsSchema, type EchoLogprobs } from "./echo-logprobs.ts";
export { loadPromptTokenizer, promptTokenizer, type PromptTokenizer } from "./left-truncate.ts";

export { appendSamples, readSampleLog, sampleRecordSchema, type SampleRecord } from "./samples-log.ts";
export { aggregateSamples, type AggregateMetrics, type MetricValue, type SubjectMetrics } from "./aggregate.ts";
export { defaultDataDir, evalDataDir, evalEnvSchema, type EvalEnv } from "./env.ts";
export { runEval, type EvalProgress, type EvalResult, type RunEvalOptions } from "./run-eval.ts";
export { scoreGsm8kPredictions, gsm8kPredictionSchema, type Gsm8kPredictionScores } from "./score-predictions.ts";

export {
  EvalWorkerError,
  createWorkerBackend,
  workerBackendOptionsSchema,
  type WorkerBackendOptions,
  type WorkerEvalBackend,
} from "./worker-backend.ts";
export {
  evaluateMergedCheckpoint,
  evaluateMergedOptionsSchema,
  type EvaluateMergedOptions,
  type MergedEvaluation,
} from "./merged-checkpoint.ts";
export { evalProgressLine } from "./progress-line.ts";
