// @subnet-review/eval/tasks: the tasks, their names, data paths, prompts and metrics, without the backends (so
// a consumer such as the api server does not load the trainer the worker backend needs).
export { mmluDescription, mmluPrompt, mmluQuery, MMLU_CHOICE_LABELS } from "./mmlu.ts";
export { arcQuery } from "./arc.ts";
export { HELLASWAG_SAMPLE_NOTE, hellaswagDoc, hellaswagPreprocess, type HellaswagDoc } from "./hellaswag.ts";
export {
  defaultMmluFewshot,
  loadEvalTask,
  taskDataPaths,
  taskMetrics,
  taskNameSchema,
  taskNames,
  type ChoiceItem,
  type EvalItem,
  type EvalTask,
  type GenerationItem,
  type LoadTaskOptions,
  type TaskName,
} from "./registry.ts";
