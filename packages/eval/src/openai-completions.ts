import { backoffDelayMs, retryAfterMs } from "@subnet-review/core";
import { z } from "zod";
import type { EvalBackend, RequestProgress } from "./backend.ts";
import { continuationLoglikelihood, echoLogprobsSchema } from "./echo-logprobs.ts";
import { describeZodError } from "./errors.ts";
import type { PromptTokenizer } from "./left-truncate.ts";
import { CompletionsHttpError, MissingServerCapabilityError, openAiHeaders, openAiUrl } from "./openai-server.ts";
import type { GenerationRequest, LoglikelihoodRequest, LoglikelihoodResult } from "./requests.ts";

/** An OpenAI-compatible server (vLLM, SGLang; TGI and llama.cpp for generation only) serving POST /v1/completions. */
export const openAiCompletionsOptionsSchema = z
  .object({
    baseUrl: z.url({ protocol: /^https?$/, message: "baseUrl must be an http(s) URL such as http://127.0.0.1:8000" }),
    model: z.string().min(1, "model must name the served model"),
    /** Model / checkpoint label for results; the served model name by default. */
    label: z.string().min(1).optional(),
    /** Sent as `Authorization: Bearer` on every request. */
    apiKey: z.string().min(1, "apiKey must not be empty").optional(),
    /** Prompts sent in one HTTP request (the `prompt` array); 4 is what TGI accepts by default. */
    promptsPerRequest: z.number().int().min(1, "promptsPerRequest (--batch-size) must be >= 1").default(4),
    /** HTTP requests in flight at once. */
    concurrency: z.number().int().min(1, "concurrency must be >= 1").default(8),
    /**
     * The served model's context length in tokens: longer prompts lose their start (left truncation, as the
     * harness does), counted with `tokenizer`, leaving room for the server's special tokens and max_tokens.
     */
    maxLength: z.number().int().min(2, "maxLength must be >= 2").optional(),
    tokenizer: z.custom<PromptTokenizer>((t) => typeof (t as PromptTokenizer | undefined)?.lastTokens === "function").optional(),
    maxRetries: z.number().int().min(0).default(5),
    /** retry delays: core's backoffDelayMs from retryBaseMs, doubling up to retryMaxMs, or the server's Retry-After */
    retryBaseMs: z.number().int().min(0).default(500),
    retryMaxMs: z.number().int().min(0).default(30_000),
    timeoutMs: z.number().int().min(1).default(600_000),
    /**
     * max_tokens for echo scoring: 1 as the harness sends (every server accepts it), 0 for the prompt alone
     * (vLLM). A generated token is never counted: only prompt tokens are scored.
     */
    loglikelihoodMaxTokens: z.union([z.literal(0), z.literal(1)]).default(1),
    /** Told how many prompts of a call were left-truncated. */
    onNotice: z.custom<(message: string) => void>((f) => typeof f === "function").optional(),
  })
  .refine((o) => o.maxLength === undefined || o.tokenizer !== undefined, {
    path: ["tokenizer"],
    message: "tokenizer is required with maxLength (the served model's tokenizer.json counts the tokens)",
  });
export type OpenAiCompletionsOptions = z.input<typeof openAiCompletionsOptionsSchema>;

const choiceSchema = z.object({
  index: z.number().int().nonnegative(),
  text: z.string(),
  // Checked per use: generation ignores it; loglikelihood needs vLLM's echo shape (echoLogprobsSchema).
  logprobs: z.unknown().optional(),
  finish_reason: z.string().nullable().optional(),
});

export const completionResponseSchema = z.object({
  choices: z.array(choiceSchema),
});
const completionAnswerSchema = z.union([completionResponseSchema, z.array(completionResponseSchema.extend({ choices: z.array(choiceSchema).length(1) }))]);
type CompletionChoice = z.infer<typeof choiceSchema>;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Runs `fn` over items with at most `limit` in flight, keeping order. */
async function mapConcurrent<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  });
  await Promise.all(workers);
  return out;
}

function chunk<T>(xs: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += size) out.push(xs.slice(i, i + size));
  return out;
}

/** Why an echo answer carries no prompt log-probabilities, or null when it has vLLM's shape. */
function missingEcho(choice: CompletionChoice, prompt: string): string | null {
  const lp = choice.logprobs;
  if (lp === null || lp === undefined) return "it answered echo + logprobs with no logprobs (TGI does)";
  if (Array.isArray(lp)) return "its logprobs are a bare list of numbers, not tokens with text offsets (TGI's shape)";
  if (typeof lp === "object" && "content" in lp) return "its logprobs cover generated tokens only (llama.cpp's shape)";
  if (!choice.text.startsWith(prompt)) return "it ignored echo: the answer's text does not begin with the prompt";
  return null;
}

/** A 4xx/5xx to an echo request that names echo or logprobs (llama.cpp: "Only no echo is supported"). */
const refusesEcho = (body: string): boolean => /\becho\b|logprobs/i.test(body);

export function createOpenAiCompletionsBackend(input: OpenAiCompletionsOptions): EvalBackend {
  const parsed = openAiCompletionsOptionsSchema.safeParse(input);
  if (!parsed.success) throw new Error(`OpenAI completions backend: ${describeZodError(parsed.error)}`);
  const opts = parsed.data;
  const url = openAiUrl(opts.baseUrl, "completions");
  const backoff = { baseMs: opts.retryBaseMs, maxMs: opts.retryMaxMs };

  /** The prompt with its start cut to fit `maxLength` when `reserved` tokens must follow it (max_tokens). */
  function fitted(prompt: string, reserved: number): string {
    if (opts.maxLength === undefined || opts.tokenizer === undefined) return prompt;
    const budget = opts.maxLength - opts.tokenizer.specialTokens - reserved;
    if (budget < 1) {
      throw new Error(`maxLength ${opts.maxLength} (--max-length) leaves no room for a prompt before ${reserved} new tokens`);
    }
    return opts.tokenizer.lastTokens(prompt, budget);
  }

  function notice(truncated: number, total: number): void {
    if (truncated > 0) opts.onNotice?.(`left-truncated ${truncated} of ${total} prompts to --max-length ${opts.maxLength}`);
  }

  async function post(body: Record<string, unknown>, prompts: number, echo: boolean): Promise<CompletionChoice[]> {
    for (let attempt = 0; ; attempt++) {
      let res: Response;
      try {
        res = await fetch(url, {
          method: "POST",
          headers: openAiHeaders(opts.apiKey),
          body: JSON.stringify(body),
          signal: AbortSignal.timeout(opts.timeoutMs),
        });
      } catch (error) {
        // Connection refused / reset / timeout: transient for a server that is starting or overloaded.
        if (attempt >= opts.maxRetries) throw new Error(`POST ${url} failed: ${(error as Error).message}`);
        await sleep(backoffDelayMs(attempt, backoff));
        continue;
      }
      if (!res.ok) {
        const text = await res.text();
        if (echo && res.status !== 429 && refusesEcho(text)) {
          throw new MissingServerCapabilityError(url, `it answered HTTP ${res.status}: ${text.slice(0, 200)}`);
        }
        if ((res.status === 429 || res.status >= 500) && attempt < opts.maxRetries) {
          await sleep(backoffDelayMs(attempt, backoff, retryAfterMs(res.headers.get("retry-after"))));
          continue;
        }
        throw new CompletionsHttpError(res.status, text, `POST ${url}`, opts.apiKey);
      }
      const parsed = completionAnswerSchema.safeParse(await res.json());
      if (!parsed.success) throw new Error(`POST ${url}: not an OpenAI completions answer: ${describeZodError(parsed.error)}`);
      // llama.cpp answers a prompt array with an array of one-choice answers, in prompt order.
      const choices = Array.isArray(parsed.data)
        ? parsed.data.map((answer, i) => ({ ...answer.choices[0]!, index: i }))
        : [...parsed.data.choices].sort((a, b) => a.index - b.index);
      if (choices.length !== prompts || choices.some((c, i) => c.index !== i)) {
        throw new Error(`POST ${url}: ${choices.length} choices for ${prompts} prompts`);
      }
      return choices;
    }
  }

  return {
    label: opts.label ?? opts.model,

    async generate(requests: readonly GenerationRequest[], onProgress?: RequestProgress): Promise<string[]> {
      // One HTTP request holds prompts that share stop and max_tokens (the harness groups by gen_kwargs too).
      const groups = new Map<string, number[]>();
      requests.forEach((r, i) => {
        const key = JSON.stringify([r.stop, r.maxTokens]);
        groups.set(key, [...(groups.get(key) ?? []), i]);
      });
      const calls = [...groups.values()].flatMap((idx) => chunk(idx, opts.promptsPerRequest));
      const out = new Array<string>(requests.length);
      let done = 0;
      let truncated = 0;
      await mapConcurrent(calls, opts.concurrency, async (idx) => {
        const first = requests[idx[0]!]!;
        // TGI refuses max_new_tokens 0.
        const maxTokens = Math.max(1, first.maxTokens);
        const prompts = idx.map((i) => fitted(requests[i]!.context, maxTokens));
        truncated += prompts.filter((p, k) => p !== requests[idx[k]!]!.context).length;
        const choices = await post({ model: opts.model, prompt: prompts, max_tokens: maxTokens, temperature: 0, stop: first.stop }, idx.length, false);
        idx.forEach((reqIndex, k) => {
          out[reqIndex] = choices[k]!.text;
        });
        done += idx.length;
        onProgress?.(done, requests.length);
      });
      notice(truncated, requests.length);
      return out;
    },

    async loglikelihood(requests: readonly LoglikelihoodRequest[], onProgress?: RequestProgress): Promise<LoglikelihoodResult[]> {
      const calls = chunk(
        requests.map((_, i) => i),
        opts.promptsPerRequest,
      );
      const out = new Array<LoglikelihoodResult>(requests.length);
      let done = 0;
      let truncated = 0;
      await mapConcurrent(calls, opts.concurrency, async (idx) => {
        const prompts = idx.map((i) => {
          const { context, continuation } = requests[i]!;
          const full = context + continuation;
          const kept = fitted(full, opts.loglikelihoodMaxTokens);
          // The harness asserts a context token is left (ctxlen > 0).
          if (kept.length <= continuation.length) {
            throw new Error(
              `maxLength ${opts.maxLength} (--max-length): the continuation ${JSON.stringify(continuation.slice(0, 80))} leaves no room for its context`,
            );
          }
          if (kept !== full) truncated++;
          return kept;
        });
        const choices = await post(
          { model: opts.model, prompt: prompts, max_tokens: opts.loglikelihoodMaxTokens, temperature: 0, logprobs: 1, echo: true },
          idx.length,
          true,
        );
        idx.forEach((reqIndex, k) => {
          const choice = choices[k]!;
          const missing = missingEcho(choice, prompts[k]!);
          if (missing !== null) throw new MissingServerCapabilityError(url, missing);
          const lp = echoLogprobsSchema.safeParse(choice.logprobs);
          if (!lp.success) throw new MissingServerCapabilityError(url, `its logprobs are not vLLM's echo shape (${describeZodError(lp.error)})`);
          out[reqIndex] = continuationLoglikelihood(lp.data, prompts[k]!, requests[reqIndex]!.continuation, opts.loglikelihoodMaxTokens);
        });
        done += idx.length;
        onProgress?.(done, requests.length);
      });
      notice(truncated, requests.length);
      return out;
    },
  };
}
