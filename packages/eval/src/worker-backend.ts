// EvalBackend on the trainer's PyTorch worker: tokenization here (the trainer's tokenizer), token ids to a
// long-lived `python -m worker.serve_eval` process over NDJSON, generation and loglikelihoods there.
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { basename, resolve } from "node:path";
import { createInterface } from "node:readline";
import {
  type BpeTokenizer,
  DEFAULT_PYTHON,
  type EvalWorkerMessage,
  type EvalWorkerModel,
  type EvalWorkerRequest,
  TRAINER_ROOT,
  evalWorkerMessageSchema,
  evalWorkerRequestSchema,
  loadTokenizer,
} from "@subnet-review/trainer";
import { z } from "zod";
import type { EvalBackend, RequestProgress } from "./backend.ts";
import { describeZodError } from "./errors.ts";
import type { GenerationRequest, LoglikelihoodRequest, LoglikelihoodResult } from "./requests.ts";

export const workerBackendOptionsSchema = z.object({
  /** A DeepSeek-V2 family checkpoint directory (config.json + safetensors). */
  modelDir: z.string().min(1, "modelDir must name a checkpoint directory"),
  /** Where tokenizer.json sits; the model directory by default. */
  tokenizerDir: z.string().min(1).optional(),
  /** Model / checkpoint label for results; the model directory's name by default. */
  label: z.string().min(1).optional(),
  python: z.string().min(1).optional(),
  device: z.enum(["cpu", "cuda"], { message: "device must be 'cpu' or 'cuda'" }).default("cuda"),
  /** bf16 on CUDA, fp32 on the CPU unless given. */
  dtype: z.enum(["fp32", "bf16"], { message: "dtype must be 'fp32' or 'bf16'" }).optional(),
  expertsImpl: z.enum(["auto", "grouped_mm", "segments"]).default("auto"),
  /** Sequences the worker runs at once (generation rows, or scored sequences). */
  batchSize: z.number().int().min(1, "batchSize must be an integer >= 1").default(64),
});
export type WorkerBackendOptions = z.input<typeof workerBackendOptionsSchema>;

export class EvalWorkerError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "EvalWorkerError";
  }
}

/** An EvalBackend holding a worker process: `close()` ends it. */
export interface WorkerEvalBackend extends EvalBackend {
  readonly model: EvalWorkerModel;
  readonly tokenizer: BpeTokenizer;
  close(): Promise<void>;
}

type DistributiveOmit<T, K extends keyof T> = T extends unknown ? Omit<T, K> : never;

interface Pending {
  resolve: (m: EvalWorkerMessage) => void;
  reject: (e: Error) => void;
  onProgress?: (done: number, total: number) => void;
}

/** The worker process and its request/answer bookkeeping. */
class WorkerProcess {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private stderr = "";
  private exitError: Error | null = null;
  readonly exited: Promise<void>;
  readonly hello: Promise<EvalWorkerMessage>;

  constructor(python: string) {
    this.child = spawn(python, ["-m", "worker.serve_eval"], {
      cwd: TRAINER_ROOT,
      env: { ...process.env, PYTHONUNBUFFERED: "1" },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let onHello: (m: EvalWorkerMessage) => void = () => {};
    let onHelloFail: (e: Error) => void = () => {};
    this.hello = new Promise((res, rej) => {
      onHello = res;
      onHelloFail = rej;
    });
    this.hello.catch(() => {});
    this.child.stderr.setEncoding("utf8");
    this.child.stderr.on("data", (chunk: string) => {
      this.stderr = (this.stderr + chunk).slice(-8000);
    });
    this.child.stdin.on("error", () => {}); // a dying worker closes stdin; its exit is reported instead
    createInterface({ input: this.child.stdout }).on("line", (line) => {
      if (line.trim() === "") return;
      let json: unknown;
      try {
        json = JSON.parse(line);
      } catch {
        this.fail(new EvalWorkerError("protocol", `eval worker wrote a line that is not JSON: ${line.slice(0, 200)}`));
        return;
      }
      const parsed = evalWorkerMessageSchema.safeParse(json);
      if (!parsed.success) {
        this.fail(new EvalWorkerError("protocol", `eval worker message does not match the protocol: ${describeZodError(parsed.error)}`));
        return;
      }
      const m = parsed.data;
      if (m.type === "hello") return onHello(m);
      const waiter = m.id === null ? undefined : this.pending.get(m.id);
      if (m.type === "error" && waiter === undefined) {
        this.fail(new EvalWorkerError(m.code, `eval worker error ${m.code}: ${m.message}`));
        return;
      }
      if (!waiter) return;
      if (m.type === "progress") return waiter.onProgress?.(m.done, m.total);
      this.pending.delete(m.id!);
      if (m.type === "error") waiter.reject(new EvalWorkerError(m.code, `eval worker error ${m.code}: ${m.message}`));
      else waiter.resolve(m);
    });
    this.exited = new Promise((res) => {
      this.child.on("error", (err) => {
        this.exitError = new EvalWorkerError("spawn", `cannot start the eval worker with ${python}: ${err.message}`);
      });
      this.child.on("close", (code, signal) => {
        const why = this.exitError ?? new EvalWorkerError("exit", `eval worker exited (status ${code}, signal ${signal}); stderr: ${this.stderr.slice(-2000)}`);
        onHelloFail(why);
        for (const p of this.pending.values()) p.reject(why);
        this.pending.clear();
        this.exitError = why;
        res();
      });
    });
  }

  private fail(error: Error): void {
    for (const p of this.pending.values()) p.reject(error);
    this.pending.clear();
    this.exitError = error;
    this.child.kill("SIGTERM");
  }

  /** Sends one request (validated) and resolves with its answer. */
  request(body: DistributiveOmit<EvalWorkerRequest, "id">, onProgress?: (done: number, total: number) => void): Promise<EvalWorkerMessage> {
    if (this.exitError) return Promise.reject(this.exitError);
    const id = this.nextId++;
    const checked = evalWorkerRequestSchema.safeParse({ ...body, id });
    if (!checked.success) return Promise.reject(new Error(`eval worker request: ${describeZodError(checked.error)}`));
    return new Promise((res, rej) => {
      this.pending.set(id, { resolve: res, reject: rej, ...(onProgress ? { onProgress } : {}) });
      this.child.stdin.write(`${JSON.stringify(checked.data)}\n`);
    });
  }

  async close(): Promise<void> {
    this.child.stdin.end();
    await this.exited;
  }

  kill(): void {
    this.child.kill("SIGTERM");
  }
}

function expect<T extends EvalWorkerMessage["type"]>(m: EvalWorkerMessage, type: T): Extract<EvalWorkerMessage, { type: T }> {
  if (m.type !== type) throw new EvalWorkerError("protocol", `eval worker answered ${m.type} where ${type} was due`);
  return m as Extract<EvalWorkerMessage, { type: T }>;
}

/** The harness's prefix for an empty context: the end-of-text token. */
function contextTokens(tok: BpeTokenizer, context: string): number[] {
  const ids = tok.encode(context);
  if (ids.length > 0) return ids;
  if (tok.eosId === null) throw new Error("loglikelihood: empty context and the tokenizer has no EOS token to stand in for it");
  return [tok.eosId];
}

/**
 * Starts the worker, loads the tokenizer and the model (every expert resident, natural routing) and returns
 * the backend. Prompts are encoded with the tokenizer's special tokens (BOS for DeepSeek), as an OpenAI-compatible
 * server encodes them. Generation contexts are cut from the left to fit max positions - max new tokens, and
 * scored sequences to max positions, as the harness truncates.
 */
export async function createWorkerBackend(input: WorkerBackendOptions): Promise<WorkerEvalBackend> {
  const parsed = workerBackendOptionsSchema.safeParse(input);
  if (!parsed.success) throw new Error(`worker backend: ${describeZodError(parsed.error)}`);
  const opts = parsed.data;
  const modelDir = resolve(opts.modelDir);
  const tokenizer = await loadTokenizer(resolve(opts.tokenizerDir ?? modelDir));
  const worker = new WorkerProcess(opts.python ?? DEFAULT_PYTHON);
  let model: EvalWorkerModel;
  try {
    await worker.hello;
    const tokenBytes = Array.from({ length: tokenizer.vocabSize }, (_, id) =>
      tokenizer.idToToken(id) === undefined ? "" : Buffer.from(tokenizer.tokenBytes(id)).toString("base64"),
    );
    const ready = await worker.request({
      op: "load",
      model_dir: modelDir,
      device: opts.device,
      dtype: opts.dtype ?? (opts.device === "cuda" ? "bf16" : "fp32"),
      experts_impl: opts.expertsImpl,
      token_bytes: tokenBytes,
    });
    model = expect(ready, "ready").model;
  } catch (error) {
    worker.kill();
    await worker.exited;
    throw error;
  }
  const eosIds = [...new Set([tokenizer.eosId, model.eos_token_id].filter((x): x is number => x !== null))];
  const label = opts.label ?? basename(modelDir);

  return {
    label,
    model,
    tokenizer,

    async generate(requests: readonly GenerationRequest[], onProgress?: RequestProgress): Promise<string[]> {
      // one worker call per (stop, max tokens), as the harness groups its generation requests
      const groups = new Map<string, number[]>();
      requests.forEach((r, i) => {
        const key = JSON.stringify([r.stop, r.maxTokens]);
        groups.set(key, [...(groups.get(key) ?? []), i]);
      });
      const out = new Array<string>(requests.length);
      let before = 0;
      for (const idx of groups.values()) {
        const first = requests[idx[0]!]!;
        const room = model.max_positions - first.maxTokens;
        if (room < 1) throw new Error(`maxTokens ${first.maxTokens} leaves no room for a prompt in ${model.max_positions} positions`);
        const prompts = idx.map((i) => tokenizer.encode(requests[i]!.context).slice(-room));
        const answer = expect(
          await worker.request(
            { op: "generate", prompts, max_new_tokens: first.maxTokens, stop: first.stop, eos_token_ids: eosIds, batch_size: opts.batchSize },
            (done) => onProgress?.(before + done, requests.length),
          ),
          "generated",
        );
        if (answer.results.length !== idx.length) throw new EvalWorkerError("protocol", `${answer.results.length} generations for ${idx.length} prompts`);
        idx.forEach((reqIndex, k) => {
          out[reqIndex] = tokenizer.decode(answer.results[k]!.tokens, { skipSpecialTokens: true });
        });
        before += idx.length;
      }
      return out;
    },

    async loglikelihood(requests: readonly LoglikelihoodRequest[], onProgress?: RequestProgress): Promise<LoglikelihoodResult[]> {
      if (requests.length === 0) return [];
      const encoded = requests.map((r, i) => {
        const context = contextTokens(tokenizer, r.context);
        const whole =
          r.context.length === 0
            ? [...context, ...tokenizer.encode(r.continuation, { addSpecialTokens: false })]
            : tokenizer.encode(r.context + r.continuation);
        const continuation = whole.length - context.length;
        if (continuation < 1)
          throw new Error(`loglikelihood request ${i}: the continuation ${JSON.stringify(r.continuation)} adds no token to the context's encoding`);
        const tokens = whole.slice(-model.max_positions);
        return { tokens, continuation: Math.min(continuation, tokens.length - 1) };
      });
      const answer = expect(
        await worker.request({ op: "loglikelihood", requests: encoded, batch_size: opts.batchSize }, (done, total) => onProgress?.(done, total)),
        "loglikelihoods",
      );
      if (answer.results.length !== requests.length) throw new EvalWorkerError("protocol", `${answer.results.length} results for ${requests.length} requests`);
      return answer.results.map((r) => ({ logprob: r.logprob, isGreedy: r.is_greedy }));
    },

    close: () => worker.close(),
  };
}
