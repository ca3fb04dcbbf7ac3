// Spawns the Python worker, sends the run spec on stdin, and turns its stdout into typed messages.
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { createInterface } from "node:readline";
import type { z } from "zod";
import {
  type DoneMessage,
  type StepMessage,
  type WorkerErrorCode,
  type WorkerMessage,
  type WorkerSpec,
  workerMessageSchema,
  workerSpecSchema,
} from "./messages.ts";
import { DEFAULT_PYTHON } from "../env.ts";

/** packages/trainer: the worker runs as `python -m worker.main` from here. */
export const TRAINER_ROOT = fileURLToPath(new URL("../../", import.meta.url));

export type FailureKind = "error" | "killed" | "crash" | "protocol" | "spawn";

/** A run that ended without `done`: the worker's error, a signal, a bare non-zero exit or bad output. */
export class WorkerFailure extends Error {
  constructor(
    readonly kind: FailureKind,
    message: string,
    readonly details: {
      code: WorkerErrorCode | null;
      exitCode: number | null;
      signal: NodeJS.Signals | null;
      stderr: string;
      messages: WorkerMessage[];
    },
  ) {
    super(message);
    this.name = "WorkerFailure";
  }

  /** Steps completed before the failure (their metrics are kept). */
  get steps(): StepMessage[] {
    return this.details.messages.filter((m): m is StepMessage => m.type === "step");
  }
}

export interface WorkerOutcome {
  done: DoneMessage;
  messages: WorkerMessage[];
  stderr: string;
}

export interface LaunchOptions {
  /** interpreter; default /usr/bin/python3 (the apps pass TRAINER_PYTHON) */
  python?: string;
  env?: NodeJS.ProcessEnv;
  onMessage?: (message: WorkerMessage) => void;
}

export interface WorkerRun {
  readonly pid: number | undefined;
  /** every validated message, in order, until the worker exits */
  messages: AsyncIterable<WorkerMessage>;
  /** resolves on `done` + exit 0, else rejects with WorkerFailure */
  result: Promise<WorkerOutcome>;
  kill(signal?: NodeJS.Signals): void;
}

function formatIssues(error: z.ZodError, prefix: string): string {
  return error.issues.map((i) => `${[prefix, ...i.path].join(".")}: ${i.message}`).join("; ");
}

/** Validates the spec (throws naming the field) and starts the worker. */
export function launchWorker(specInput: unknown, options: LaunchOptions = {}): WorkerRun {
  const parsed = workerSpecSchema.safeParse(specInput);
  if (!parsed.success) throw new Error(`invalid worker spec: ${formatIssues(parsed.error, "spec")}`);
  const spec: WorkerSpec = parsed.data;
  const python = options.python ?? DEFAULT_PYTHON;
  const child = spawn(python, ["-m", "worker.main"], {
    cwd: TRAINER_ROOT,
    env: { ...process.env, ...options.env, PYTHONUNBUFFERED: "1" },
    stdio: ["pipe", "pipe", "pipe"],
  });

  const messages: WorkerMessage[] = [];
  const queue: WorkerMessage[] = [];
  let wake: (() => void) | null = null;
  let finished = false;
  let stderr = "";
  let protocolError: string | null = null;
  let spawnError: Error | null = null;

  const push = (m: WorkerMessage): void => {
    messages.push(m);
    queue.push(m);
    options.onMessage?.(m);
    wake?.();
  };

  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (chunk: string) => {
    stderr += chunk;
  });
  const lines = createInterface({ input: child.stdout });
  lines.on("line", (line) => {
    if (line.trim() === "") return;
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch {
      protocolError ??= `worker wrote a line that is not JSON: ${line.slice(0, 200)}`;
      child.kill("SIGTERM");
      return;
    }
    const msg = workerMessageSchema.safeParse(json);
    if (!msg.success) {
      protocolError ??= `worker message does not match the protocol: ${formatIssues(msg.error, "message")}`;
      child.kill("SIGTERM");
      return;
    }
    push(msg.data);
  });
  child.stdin.on("error", () => {}); // a worker that dies early closes stdin; the exit is reported instead
  child.stdin.end(JSON.stringify(spec));

  const exited = new Promise<{ exitCode: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on("error", (err) => {
      spawnError = err;
    });
    // "close" fires after stdout and stderr are drained, so every message has been parsed
    child.on("close", (exitCode, signal) => {
      finished = true;
      wake?.();
      resolve({ exitCode, signal });
    });
  });

  const result = exited.then(({ exitCode, signal }) => {
    const done = messages.find((m): m is DoneMessage => m.type === "done");
    const errorMsg = messages.find((m) => m.type === "error");
    const details = { code: errorMsg?.type === "error" ? errorMsg.code : null, exitCode, signal, stderr, messages };
    if (spawnError) throw new WorkerFailure("spawn", `cannot start the worker with ${python}: ${spawnError.message}`, details);
    if (protocolError) throw new WorkerFailure("protocol", protocolError, details);
    if (errorMsg?.type === "error") throw new WorkerFailure("error", `worker error ${errorMsg.code}: ${errorMsg.message}`, details);
    if (signal) throw new WorkerFailure("killed", `worker was killed by ${signal} after ${messages.length} messages`, details);
    if (exitCode !== 0 || !done) {
      throw new WorkerFailure("crash", `worker exited with status ${exitCode} without a done message; stderr: ${stderr.slice(-2000)}`, details);
    }
    return { done, messages, stderr };
  });
  result.catch(() => {}); // callers that only iterate messages must not see an unhandled rejection

  async function* iterate(): AsyncGenerator<WorkerMessage> {
    for (;;) {
      const next = queue.shift();
      if (next) {
        yield next;
        continue;
      }
      if (finished) return;
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
      wake = null;
    }
  }

  return { pid: child.pid, messages: iterate(), result, kill: (signal = "SIGTERM") => child.kill(signal) };
}
