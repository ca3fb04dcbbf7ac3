// Sends a run's records to the API as they come, without ever holding up training: when the API is down the
// records wait in memory (and in metrics.jsonl) and go out in order once it answers. Every call is an idempotent
// upsert, so a batch that reached the server but whose reply was lost is simply sent again. Eval results during
// training take the same road (evals.jsonl is their log), after the steps.
import { backoffDelayMs } from "@subnet-review/core";
import { evalRecordKey } from "./eval-log.ts";
import type { EvalRecord, RunCreate, RunFinish, RunRecorder, StepRecord } from "./records.ts";

export interface UploaderOptions {
  /** steps per appendSteps call */
  batchSize?: number;
  /** the first retry's delay after a failed call (at most; core's backoffDelayMs jitters it), doubling up to maxRetryMs */
  retryMs?: number;
  maxRetryMs?: number;
  /** the run is created by another uploader (the runner's): send records without setRun; until it exists they wait */
  runCreatedElsewhere?: boolean;
}

/** Eval rows per evals.record call (the API takes at most 500, all or none). */
const EVAL_BATCH = 500;

export class RunUploader {
  private run: RunCreate | null = null;
  private runSent = true;
  private readonly pending = new Map<number, StepRecord>();
  private readonly pendingEvals = new Map<string, EvalRecord>();
  private end: RunFinish | null = null;
  private endSent = true;
  private flushing: Promise<void> | null = null;
  private retryAt = 0;
  /** failed passes since the last success: the backoff attempt */
  private failures = 0;
  private timer: NodeJS.Timeout | null = null;
  /** the last failure, cleared by the next success */
  lastError: string | null = null;
  /** steps the API has acknowledged */
  sentSteps = 0;
  /** eval rows the API has acknowledged */
  sentEvals = 0;

  constructor(
    private readonly recorder: RunRecorder,
    private readonly runId: string,
    private readonly opts: UploaderOptions = {},
  ) {}

  /** steps recorded locally that the API has not acknowledged */
  get backlog(): number {
    return this.pending.size;
  }

  /** eval rows recorded locally that the API has not acknowledged */
  get evalBacklog(): number {
    return this.pendingEvals.size;
  }

  get idle(): boolean {
    return this.runSent && this.pending.size === 0 && this.pendingEvals.size === 0 && this.endSent;
  }

  private get runExists(): boolean {
    return this.run !== null || this.opts.runCreatedElsewhere === true;
  }

  setRun(run: RunCreate): void {
    this.run = run;
    this.runSent = false;
    this.kick();
  }

  addSteps(steps: StepRecord[]): void {
    for (const s of steps) this.pending.set(s.step, s);
    this.kick();
  }

  addEvals(rows: EvalRecord[]): void {
    for (const r of rows) this.pendingEvals.set(evalRecordKey(r), r);
    this.kick();
  }

  setEnd(end: RunFinish): void {
    this.end = end;
    this.endSent = false;
    this.kick();
  }

  /** Starts a flush unless one is running or the API failed recently. */
  private kick(): void {
    if (this.flushing || Date.now() < this.retryAt) return;
    this.flushing = this.flushOnce().finally(() => {
      this.flushing = null;
    });
  }

  /** One pass: the run, then steps in order, evals, then the end. Stops at the first failure and schedules a retry. */
  private async flushOnce(): Promise<void> {
    try {
      while (!this.idle) {
        if (!this.runSent && this.run) {
          const run = this.run;
          await this.recorder.create(run);
          if (this.run === run) this.runSent = true;
          continue;
        }
        if (!this.runExists) return; // nothing may be sent before the run exists
        if (this.pending.size) {
          const batch = [...this.pending.values()].sort((a, b) => a.step - b.step).slice(0, this.opts.batchSize ?? 100);
          await this.recorder.appendSteps(this.runId, batch);
          for (const s of batch) {
            if (this.pending.get(s.step) === s) {
              this.pending.delete(s.step);
              this.sentSteps++;
            }
          }
          continue;
        }
        if (this.pendingEvals.size) {
          const batch = [...this.pendingEvals.entries()].slice(0, EVAL_BATCH);
          await this.recorder.recordEvals(batch.map(([, r]) => r));
          for (const [key, r] of batch) {
            if (this.pendingEvals.get(key) === r) {
              this.pendingEvals.delete(key);
              this.sentEvals++;
            }
          }
          continue;
        }
        if (!this.endSent && this.end) {
          const end = this.end;
          await this.recorder.finish(this.runId, end);
          if (this.end === end) this.endSent = true;
          continue;
        }
        return;
      }
      this.lastError = null;
      this.failures = 0;
    } catch (err) {
      this.lastError = (err as Error).message;
      this.retryAt = Date.now() + backoffDelayMs(this.failures++, { baseMs: this.opts.retryMs ?? 1_000, maxMs: this.opts.maxRetryMs ?? 30_000 });
      this.timer ??= setTimeout(() => {
        this.timer = null;
        this.kick();
      }, this.retryAt - Date.now());
      this.timer.unref();
    }
  }

  /** Keeps sending until everything is acknowledged or `timeoutMs` passes; true when nothing is left. */
  async drain(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.flushing) await this.flushing;
      if (this.idle) return true;
      if (!this.runExists) return false;
      const now = Date.now();
      if (now >= deadline) return false;
      if (now < this.retryAt) {
        await new Promise((r) => setTimeout(r, Math.min(this.retryAt, deadline) - now));
        continue;
      }
      this.kick();
    }
  }

  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
