import { basename, join } from "node:path";
import { ProgressWriter } from "@subnet-review/core/node";
import {
  CompletionsHttpError,
  EvalDataError,
  type EvalBackend,
  type EvalResult,
  MissingServerCapabilityError,
  createOpenAiCompletionsBackend,
  createWorkerBackend,
  evalDataDir,
  evalProgressLine,
  firstServedModel,
  loadPromptTokenizer,
  runEval,
  scoreGsm8kPredictions,
  taskNames,
} from "@subnet-review/eval";
import { z } from "zod";
import { createApiClient } from "../api-client.ts";
import { evalRecordRows, recordEvalRows } from "../eval-records.ts";
import { UsageError, numberFlag, parseFlags, readableFile, userPath, type CommandHelp, type FlagSpecs } from "../args.ts";
import { cliEnv, workerPython } from "../env.ts";

const evalRunUsage = `pnpm review eval --task TASK (--model DIR | --endpoint URL [--served-model NAME]) [--limit N] [--run ID --step S]
        [--api URL --token T] [--samples FILE] [--label NAME] [--device cuda|cpu] [--batch-size N] [--data-dir DIR] [--json]
        with --endpoint: [--api-key KEY] [--concurrency N] [--max-length N --tokenizer DIR]
    run ${taskNames.join(", ")} on a checkpoint (PyTorch worker) or an OpenAI-compatible
    server; resumes from its samples file; stores the result through the API or prints it.
    --api-key (or OPENAI_API_KEY) goes with every request; --batch-size is prompts per
    request (4), --concurrency requests in flight (8); --max-length cuts prompts' starts
    to the model's context, counted with the served model's tokenizer.json (--tokenizer)`;
const evalScoreUsage = `pnpm review eval score --task gsm8k_cot --data FILE --predictions FILE [--json]
    score given generations (JSONL: question, completion): strict, flexible, n`;

const positiveInt = (what: string) => numberFlag.pipe(z.number().int(`must be an integer`).min(1, `must be >= 1 (${what})`));

const runFlagsSchema = z
  .object({
    task: z.enum(taskNames, { error: `is required: one of ${taskNames.join(", ")}` }),
    model: z.string().min(1).optional(),
    endpoint: z.url({ protocol: /^https?$/, error: "must be an http(s) URL such as http://127.0.0.1:8000" }).optional(),
    servedModel: z.string().min(1).optional(),
    tokenizer: z.string().min(1).optional(),
    limit: positiveInt("documents to evaluate").optional(),
    run: z
      .string()
      .regex(/^[A-Za-z0-9._-]{1,100}$/, "letters, digits, '.', '_' and '-', at most 100")
      .optional(),
    step: numberFlag.pipe(z.number().int("must be an integer").min(0, "must be >= 0")).optional(),
    api: z.url({ protocol: /^https?$/, error: "must be the API's http(s) URL" }).optional(),
    token: z.string().min(1).optional(),
    samples: z.string().min(1).optional(),
    label: z.string().min(1).max(300).optional(),
    device: z.enum(["cuda", "cpu"], { error: "must be 'cuda' or 'cpu'" }).default("cuda"),
    batchSize: positiveInt("sequences per worker batch, or prompts per request with --endpoint").optional(),
    apiKey: z.string().min(1, "must not be empty").optional(),
    concurrency: positiveInt("requests in flight").optional(),
    maxLength: numberFlag.pipe(z.number().int("must be an integer").min(2, "must be >= 2 (the model's context length in tokens)")).optional(),
    dataDir: z.string().min(1).optional(),
    python: z.string().min(1).optional(),
    json: z.boolean().default(false),
  })
  .superRefine((f, ctx) => {
    if ((f.model === undefined) === (f.endpoint === undefined))
      ctx.addIssue({ code: "custom", path: ["model"], message: "give exactly one of --model DIR or --endpoint URL" });
    for (const key of ["servedModel", "apiKey", "concurrency", "maxLength"] as const) {
      if (f[key] !== undefined && f.endpoint === undefined) ctx.addIssue({ code: "custom", path: [key], message: "only applies with --endpoint" });
    }
    if (f.maxLength !== undefined && f.tokenizer === undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["tokenizer"],
        message: "is required with --max-length: the served model's tokenizer.json directory counts its tokens",
      });
    }
    if (f.step !== undefined && f.run === undefined) ctx.addIssue({ code: "custom", path: ["step"], message: "needs --run ID" });
    if (f.api !== undefined && f.token === undefined)
      ctx.addIssue({ code: "custom", path: ["token"], message: "is required with --api (pnpm review token create)" });
    if (f.token !== undefined && f.api === undefined) ctx.addIssue({ code: "custom", path: ["api"], message: "is required with --token" });
  });

const runOptions = {
  task: { type: "string", value: "TASK", help: `one of ${taskNames.join(", ")}` },
  model: { type: "string", value: "DIR", help: "a local checkpoint, evaluated by the PyTorch worker" },
  endpoint: { type: "string", value: "URL", help: "an OpenAI-compatible completions server instead of --model" },
  "served-model": { type: "string", value: "NAME", help: "the model name the server serves (default: the first of GET /v1/models)" },
  tokenizer: { type: "string", value: "DIR", help: "a tokenizer.json directory: the worker's (default: --model), or the served model's for --max-length" },
  limit: { type: "string", value: "N", help: "the first N documents only" },
  run: { type: "string", value: "ID", help: "the training run the checkpoint belongs to (with --step)" },
  step: { type: "string", value: "S", help: "the run's step of the checkpoint" },
  api: { type: "string", value: "URL", help: "the API's base URL: the result is stored there (with --token)" },
  token: { type: "string", value: "T", help: "an API write token (pnpm review token create)" },
  samples: { type: "string", value: "FILE", help: "the per-document samples file it resumes from (default evals/<label>/<task>.jsonl)" },
  label: { type: "string", value: "NAME", help: "the model's name in the results (default: the checkpoint's folder or the served model)" },
  device: { type: "string", value: "cuda|cpu", help: "the worker's device (default cuda)" },
  "batch-size": { type: "string", value: "N", help: "sequences per worker batch, or prompts per request with --endpoint (4)" },
  "data-dir": { type: "string", value: "DIR", help: "where the data sets are (default ../shared/data beside the repository, or EVAL_DATA_DIR)" },
  python: { type: "string", value: "PATH", help: "the Python with torch that runs the worker (default TRAINER_PYTHON or /usr/bin/python3)" },
  "api-key": { type: "string", value: "KEY", help: "the server's bearer key, sent with every request (default OPENAI_API_KEY)" },
  concurrency: { type: "string", value: "N", help: "requests in flight with --endpoint (8)" },
  "max-length": { type: "string", value: "N", help: "the served model's context in tokens: longer prompts lose their start (with --tokenizer)" },
  json: { type: "boolean", help: "print one JSON object" },
} as const satisfies FlagSpecs;

const scoreOptions = {
  task: { type: "string", value: "gsm8k_cot", help: "the generation task scored (gsm8k_cot)" },
  data: { type: "string", value: "FILE", help: "the GSM8K JSONL (question, answer)" },
  predictions: { type: "string", value: "FILE", help: "a JSONL of {question, completion}" },
  json: { type: "boolean", help: "print one JSON object" },
} as const satisfies FlagSpecs;

export const evalHelp: CommandHelp[] = [
  { usage: evalRunUsage, flags: runOptions },
  { usage: evalScoreUsage, flags: scoreOptions },
];

async function servedModelName(endpoint: string, apiKey: string | undefined): Promise<string> {
  try {
    return await firstServedModel(endpoint, apiKey);
  } catch (err) {
    throw new UsageError(`--served-model: not given, and ${(err as Error).message}`);
  }
}

/** A server's refusal the user fixes with a flag (the key, the endpoint) exits 2 naming that flag. */
function asUsageError(err: unknown): unknown {
  if (err instanceof CompletionsHttpError && (err.status === 401 || err.status === 403)) return new UsageError(`--api-key: ${err.message}`);
  if (err instanceof MissingServerCapabilityError) return new UsageError(`--endpoint: ${err.message}`);
  return err;
}

function printResult(r: EvalResult): void {
  for (const [metric, m] of Object.entries(r.metrics)) {
    const se = m.stderr === null ? "" : ` ± ${(100 * m.stderr).toFixed(2)}`;
    console.log(`${r.task} ${metric}: ${(100 * m.value).toFixed(2)}%${se} (n ${r.n}, model ${r.model})`);
  }
  if (r.note) console.log(r.note);
  console.log(`samples: ${r.samplesPath}${r.resumed ? ` (${r.resumed} resumed)` : ""} · ${(r.elapsedMs / 1000).toFixed(1)} s`);
}

async function scoreCommand(argv: string[]): Promise<void> {
  const flags = parseFlags(
    argv,
    scoreOptions,
    z.object({
      task: z.literal("gsm8k_cot", { error: "is required and must be gsm8k_cot (the generation task)" }),
      data: z.string({ error: "is required: the GSM8K JSONL (question, answer)" }).min(1),
      predictions: z.string({ error: "is required: a JSONL of {question, completion}" }).min(1),
      json: z.boolean().default(false),
    }),
  );
  const files = { dataPath: await readableFile(flags.data, "--data"), predictionsPath: await readableFile(flags.predictions, "--predictions") };
  const started = performance.now();
  const s = await scoreGsm8kPredictions(files).catch((err: unknown) => {
    // A bad line or an empty file is the user's to fix: exit 2 naming the flag whose file it is.
    const file = err instanceof EvalDataError ? err.file : (err as Error).message.split(":")[0];
    const flag = file === files.dataPath ? "--data" : file === files.predictionsPath ? "--predictions" : null;
    throw flag ? new UsageError(`${flag}: ${(err as Error).message}`) : err;
  });
  const ms = performance.now() - started;
  process.stderr.write(`scored ${s.n} predictions in ${ms.toFixed(1)} ms${s.missing ? ` (${s.missing} questions of the data have none)` : ""}\n`);
  if (flags.json) {
    console.log(
      JSON.stringify({ strict: s.strict, flexible: s.flexible, n: s.n, strictStderr: s.strictStderr, flexibleStderr: s.flexibleStderr, missing: s.missing }),
    );
    return;
  }
  console.log(`gsm8k_cot strict-match: ${(100 * s.strict).toFixed(2)}% · flexible-extract: ${(100 * s.flexible).toFixed(2)}% · n ${s.n}`);
}

export async function evalCommand(argv: string[]): Promise<void> {
  if (argv[0] === "score") return scoreCommand(argv.slice(1));
  // node:util gives kebab-case keys; the schema is camelCase (parseFlags prints a field back as --kebab-case)
  const flags = parseFlags(
    argv,
    runOptions,
    z.preprocess(
      (v) => Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase()), x])),
      runFlagsSchema,
    ),
  );
  let backend: EvalBackend & { close?: () => Promise<void> };
  if (flags.model !== undefined) {
    const modelDir = userPath(flags.model);
    backend = await createWorkerBackend({
      modelDir,
      label: flags.label ?? basename(modelDir),
      device: flags.device,
      ...(flags.tokenizer ? { tokenizerDir: userPath(flags.tokenizer) } : {}),
      python: workerPython(flags.python),
      ...(flags.batchSize ? { batchSize: flags.batchSize } : {}),
    });
  } else {
    const apiKey = flags.apiKey ?? cliEnv().OPENAI_API_KEY;
    const served = flags.servedModel ?? (await servedModelName(flags.endpoint!, apiKey));
    const tokenizer =
      flags.maxLength === undefined
        ? undefined
        : await loadPromptTokenizer(userPath(flags.tokenizer!)).catch((err: unknown) => {
            throw new UsageError(`--tokenizer: ${(err as Error).message}`);
          });
    backend = createOpenAiCompletionsBackend({
      baseUrl: flags.endpoint!,
      model: served,
      ...(flags.label ? { label: flags.label } : {}),
      ...(apiKey ? { apiKey } : {}),
      ...(flags.batchSize ? { promptsPerRequest: flags.batchSize } : {}),
      ...(flags.concurrency ? { concurrency: flags.concurrency } : {}),
      ...(tokenizer ? { maxLength: flags.maxLength, tokenizer } : {}),
      onNotice: (message) => process.stderr.write(`${message}\n`),
    });
  }
  const samplesPath = userPath(flags.samples ?? join("evals", backend.label.replace(/[^A-Za-z0-9._@-]+/g, "_"), `${flags.task}.jsonl`));
  let result: EvalResult;
  const progress = new ProgressWriter(process.stderr);
  try {
    result = await runEval({
      task: flags.task,
      backend,
      samplesPath,
      dataDir: flags.dataDir ? userPath(flags.dataDir) : evalDataDir(cliEnv()),
      ...(flags.limit ? { limit: flags.limit } : {}),
      onProgress: (p) => progress.update(evalProgressLine(p), p.done === p.total),
    });
  } catch (err) {
    throw asUsageError(err);
  } finally {
    await backend.close?.();
  }
  if (flags.api) {
    const client = createApiClient({ url: flags.api, token: flags.token });
    await recordEvalRows(client, evalRecordRows(result, { runId: flags.run ?? null, step: flags.step ?? null }));
    process.stderr.write(`recorded ${Object.keys(result.metrics).length} metrics at ${flags.api}\n`);
  }
  if (flags.json) console.log(JSON.stringify(result));
  else printResult(result);
}
