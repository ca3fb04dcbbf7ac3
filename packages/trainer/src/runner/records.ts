// What a run sends to the review's API. The CLI implements RunRecorder with the tRPC client (runs router);
// the runner only needs these three calls, each idempotent so a replayed backlog never duplicates anything.
import type { TrainedCell } from "@subnet-review/core";

export interface ExperimentRef {
  name: string;
  description: string;
}

export interface RunCreate {
  id: string;
  cell: TrainedCell;
  /** K trainable experts per MoE layer (the rounded mean when ESFT's count varies by layer). */
  trainable: number;
  /** N frozen resident experts per MoE layer (cell B; 0 for A and C). */
  kept: number;
  /** The training forward's routing: "subnet" or "renormalized" (cells A and B), "natural" (cell C). */
  routingMode: "subnet" | "renormalized" | "natural";
  /** Experts per token in training (before any clamp to a layer's resident count); null when unknown. */
  topK: number | null;
  steps: number;
  /** run.json's spec, the model's config.json and the data manifest summary. */
  spec: Record<string, unknown>;
  /** From the worker's ready message: expert ids per MoE layer. */
  experts: { trainable: Record<string, number[]>; kept: Record<string, number[]> } | null;
  /** From the worker's hello message. */
  hardware: Record<string, unknown> | null;
  gitCommit: string | null;
  experiment: ExperimentRef | null;
  /** ISO time the run started (kept on replays). */
  startedAt: string;
}

export interface StepRecord {
  step: number;
  loss: number;
  gradNorm: number;
  lr: number;
  tokens: number;
  tokensPerSecond: number;
  stepSeconds: number;
  memAllocatedBytes: number | null;
  memPeakBytes: number | null;
}

export interface RunFinish {
  status: "completed" | "failed";
  error: string | null;
  finishedAt: string;
  wallclockSeconds: number;
  peakMemoryBytes: number | null;
  tokensPerSecond: number | null;
  mfu: number | null;
}

/** One metric of one evaluation of a run's checkpoint (step 0: the base model), as the API's evals.record takes it. */
export interface EvalRecord {
  /** the evaluated model's label, e.g. "<run id>@step-500" */
  model: string;
  runId: string;
  step: number;
  task: string;
  metric: string;
  value: number;
  stderr: number | null;
  n: number;
  note: string | null;
  samplesPath: string | null;
}

export interface RunRecorder {
  /** Creates the run, or updates it (status back to running) when it exists. */
  create(run: RunCreate): Promise<void>;
  /** Upserts steps by (runId, step). */
  appendSteps(runId: string, steps: StepRecord[]): Promise<void>;
  finish(runId: string, end: RunFinish): Promise<void>;
  /** Upserts eval metrics by (model, runId, step, task, metric); the run must exist. */
  recordEvals(rows: EvalRecord[]): Promise<void>;
}
