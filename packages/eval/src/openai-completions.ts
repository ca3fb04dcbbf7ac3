import { z } from "zod";
import type { EvalBackend, RequestProgress } from "./backend.ts";
import { describeZodError } from "./errors.ts";
import { pyLen } from "./python-str.ts";
import type { GenerationRequest, LoglikelihoodRequest, LoglikelihoodResult } from "./requests.ts";

/** An OpenAI-compatible server (vLLM, SGLang, llama.cpp server) serving POST {baseUrl}/v1/completions. */
export const openAiCompletionsOptionsSchema = z.object({
  baseUrl: z.url({ protocol: /^https?$/, message: "baseUrl must be an http(s) URL such as http://127.0.0.1:8000" }),
  model: z.string().min(1, "model must name the served model"),
  /** Model / checkpoint label for results; the served model name by default. */
  label: z.string().min(1).optional(),
  apiKey: z.string().optional(),
  /** Prompts sent in one HTTP request (the `prompt` array). */
  promptsPerRequest: z.number().int().min(1).default(16),
  /** HTTP requests in flight at once. */
  concurrency: z.number().int().min(1).default(4),
  maxRetries: z.number().int().min(0).default(5),
  retryBaseMs: z.number().int().min(0).default(500),
  timeoutMs: z.number().int().min(1).default(600_000),
  /**
   * max_tokens for echo scoring: 0 asks for the prompt's logprobs only (vLLM); 1 for servers that must generate.
   * A generated token is never counted: only prompt tokens are scored.
   */
  loglikelihoodMaxTokens: z.union([z.literal(0), z.literal(1)]).default(0),
});
export type OpenAiCompletionsOptions = z.input<typeof openAiCompletionsOptionsSchema>;

const logprobsSchema = z.object({
  tokens: z.array(z.string()),
  token_logprobs: z.array(z.number().nullable()),
  top_logprobs: z.array(z.record(z.string(), z.number()).nullable()).nullable().optional(),
  text_offset: z.array(z.number().int()),
});

const choiceSchema = z.object({
  index: z.number().int().nonnegative(),
  text: z.string(),
  logprobs: logprobsSchema.nullable().optional(),
  finish_reason: z.string().nullable().optional(),
});

export const completionResponseSchema = z.object({
  choices: z.array(choiceSchema),
});
type CompletionChoice = z.infer<typeof choiceSchema>;

export class CompletionsHttpError extends Error {
  constructor(
    readonly status: number,
    body: string,
  ) {
    super(`POST /v1/completions answered HTTP ${status}: ${body.slice(0, 500)}`);
    this.name = "CompletionsHttpError";
  }
}

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

/**
 * Sums the log-probabilities of the continuation's tokens in an echoed prompt. Token i spans
 * [text_offset[i], text_offset[i+1]); the prompt's end is anchored at the last prompt token, so a special token the
 * server prepends (BOS, whose text shifts every offset) does not move the boundary. A token belongs to the
 * continuation when its span ends after the context, i.e. it holds at least one continuation character.
 * Offsets are counted in Unicode code points (Python str indices), as vLLM reports them.
 */
export function continuationLoglikelihood(
  logprobs: z.infer<typeof logprobsSchema>,
  continuation: string,
  generatedTokens: 0 | 1,
): LoglikelihoodResult {
  const { tokens, token_logprobs: lps, text_offset: offsets } = logprobs;
  const count = tokens.length - generatedTokens;
  if (count < 1 || lps.length !== tokens.length || offsets.length !== tokens.length) {
    throw new Error("completions response: logprobs.tokens, token_logprobs and text_offset do not line up");
  }
  const last = count - 1;
  const promptEnd = generatedTokens === 1 ? offsets[count]! : offsets[last]! + pyLen(tokens[last]!);
  const boundary = promptEnd - pyLen(continuation);
  let logprob = 0;
  let isGreedy = true;
  let scored = 0;
  for (let i = last; i >= 0; i--) {
    const end = i === last ? promptEnd : offsets[i + 1]!;
    if (end <= boundary) break;
    const lp = lps[i];
    if (lp === null || lp === undefined) {
      throw new Error("completions response: a continuation token has no logprob (empty context?)");
    }
    logprob += lp;
    scored++;
    const top = logprobs.top_logprobs?.[i];
    if (top) {
      const best = Math.max(...Object.values(top));
      if (lp !== best) isGreedy = false;
    }
  }
  if (scored === 0) throw new Error("completions response: no token of the continuation was found in the echoed prompt");
  return { logprob, isGreedy };
}

export function createOpenAiCompletionsBackend(input: OpenAiCompletionsOptions): EvalBackend {
  const parsed = openAiCompletionsOptionsSchema.safeParse(input);
  if (!parsed.success) throw new Error(`OpenAI completions backend: ${describeZodError(parsed.error)}`);
  const opts = parsed.data;
  const url = `${opts.baseUrl.replace(/\/+$/, "").replace(/\/v1$/, "")}/v1/completions`;

  async function post(body: Record<string, unknown>, prompts: number): Promise<CompletionChoice[]> {
    for (let attempt = 0; ; attempt++) {
      let res: Response;
      try {
        res = await fetch(url, {
          method: "POST",
          headers: {
            "content-type": "application/json",
            ...(opts.apiKey ? { authorization: `Bearer ${opts.apiKey}` } : {}),
          },
          body: JSON.stringify(body),
          signal: AbortSignal.timeout(opts.timeoutMs),
        });
      } catch (error) {
        // Connection refused / reset / timeout: transient for a server that is starting or overloaded.
        if (attempt >= opts.maxRetries) throw new Error(`POST ${url} failed: ${(error as Error).message}`);
        await sleep(opts.retryBaseMs * 2 ** attempt);
        continue;
      }
      if (res.status === 429 || res.status >= 500) {
        const text = await res.text();
        if (attempt >= opts.maxRetries) throw new CompletionsHttpError(res.status, text);
        await sleep(opts.retryBaseMs * 2 ** attempt);
        continue;
      }
      if (!res.ok) throw new CompletionsHttpError(res.status, await res.text());
      const parsed = completionResponseSchema.safeParse(await res.json());
      if (!parsed.success) throw new Error(`POST ${url}: unexpected response shape: ${parsed.error.message}`);
      const choices = [...parsed.data.choices].sort((a, b) => a.index - b.index);
      if (choices.length !== prompts || choices.some((c, i) => c.index !== i)) {
        throw new Error(`POST ${url}: ${choices.length} choices for ${prompts} prompts`);
      }
      return choices;
    }
  }

  return {
    label: opts.label ?? opts.model,

    async generate(requests: readonly GenerationRequest[], onProgress?: RequestProgress): Promise<string[]> {
      // One HTTP request holds prompts that share stop and max_tokens.
      const groups = new Map<string, number[]>();
      requests.forEach((r, i) => {
        const key = JSON.stringify([r.stop, r.maxTokens]);
        groups.set(key, [...(groups.get(key) ?? []), i]);
      });
      const calls = [...groups.values()].flatMap((idx) => chunk(idx, opts.promptsPerRequest));
      const out = new Array<string>(requests.length);
      let done = 0;
      await mapConcurrent(calls, opts.concurrency, async (idx) => {
        const first = requests[idx[0]!]!;
        const choices = await post(
          {
            model: opts.model,
            prompt: idx.map((i) => requests[i]!.context),
            max_tokens: first.maxTokens,
            temperature: 0,
            stop: first.stop,
          },
          idx.length,
        );
        idx.forEach((reqIndex, k) => {
          out[reqIndex] = choices[k]!.text;
        });
        done += idx.length;
        onProgress?.(done, requests.length);
      });
      return out;
    },

    async loglikelihood(requests: readonly LoglikelihoodRequest[], onProgress?: RequestProgress): Promise<LoglikelihoodResult[]> {
      const calls = chunk(
        requests.map((_, i) => i),
        opts.promptsPerRequest,
      );
      const out = new Array<LoglikelihoodResult>(requests.length);
      let done = 0;
      await mapConcurrent(calls, opts.concurrency, async (idx) => {
        const choices = await post(
          {
            model: opts.model,
            prompt: idx.map((i) => requests[i]!.context + requests[i]!.continuation),
            max_tokens: opts.loglikelihoodMaxTokens,
            temperature: 0,
            logprobs: 1,
            echo: true,
          },
          idx.length,
        );
        idx.forEach((reqIndex, k) => {
          const lp = choices[k]!.logprobs;
          if (!lp) throw new Error("completions response: echo + logprobs asked for, but a choice has no logprobs");
          out[reqIndex] = continuationLoglikelihood(lp, requests[reqIndex]!.continuation, opts.loglikelihoodMaxTokens);
        });
        done += idx.length;
        onProgress?.(done, requests.length);
      });
      return out;
    },
  };
}
