import { z } from "zod";

/** `{baseUrl}/v1/{path}`, whether or not baseUrl already ends in /v1. */
export function openAiUrl(baseUrl: string, path: "completions" | "models"): string {
  return `${baseUrl.replace(/\/+$/, "").replace(/\/v1$/, "")}/v1/${path}`;
}

/** Headers every request carries: the bearer key when there is one (vLLM --api-key, hosted gateways). */
export function openAiHeaders(apiKey: string | undefined): Record<string, string> {
  return { "content-type": "application/json", ...(apiKey ? { authorization: `Bearer ${apiKey}` } : {}) };
}

/** What the user can do about a refusal: a missing or refused key, a prompt longer than the model's context. */
function hint(status: number, body: string, apiKey: string | undefined): string {
  if (status === 401 || status === 403) {
    return apiKey
      ? " (the server refused the API key given: check --api-key / OPENAI_API_KEY)"
      : " (the server wants an API key: pass --api-key KEY or set OPENAI_API_KEY)";
  }
  if (/context length|too long|exceeds? .*(tokens|length)/i.test(body)) {
    return " (pass --max-length N with --tokenizer DIR to cut prompts' starts, as the harness does)";
  }
  if (/batch size|number of prompts/i.test(body)) return " (send fewer prompts per request: lower --batch-size)";
  return "";
}

export class CompletionsHttpError extends Error {
  constructor(
    readonly status: number,
    body: string,
    request = "POST /v1/completions",
    apiKey?: string,
  ) {
    super(`${request} answered HTTP ${status}: ${body.slice(0, 500)}${hint(status, body, apiKey)}`);
    this.name = "CompletionsHttpError";
  }
}

/** The server cannot do what a task needs (prompt log-probabilities); retrying or rescoring cannot help. */
export class MissingServerCapabilityError extends Error {
  constructor(url: string, evidence: string) {
    super(
      `${url} cannot return prompt log-probabilities (echo: true with logprobs), which the loglikelihood tasks ` +
        `(mmlu, arc_challenge, hellaswag) need: ${evidence}. TGI's and llama.cpp's /v1/completions do not return ` +
        `them; serve the model with vLLM or SGLang, or evaluate the checkpoint with --model`,
    );
    this.name = "MissingServerCapabilityError";
  }
}

const modelsSchema = z.object({ data: z.array(z.object({ id: z.string().min(1) })).min(1) });

/** The first model GET /v1/models lists (what `model` must name in a completions request). */
export async function firstServedModel(baseUrl: string, apiKey?: string, timeoutMs = 10_000): Promise<string> {
  const url = openAiUrl(baseUrl, "models");
  let res: Response;
  try {
    res = await fetch(url, { headers: openAiHeaders(apiKey), signal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    throw new Error(`GET ${url} failed (${(err as Error).message})`);
  }
  const text = await res.text();
  if (!res.ok) throw new CompletionsHttpError(res.status, text, `GET ${url}`, apiKey);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new Error(`GET ${url} answered something other than JSON: ${text.slice(0, 200)}`);
  }
  const parsed = modelsSchema.safeParse(body);
  if (!parsed.success) throw new Error(`GET ${url} lists no model`);
  return parsed.data.data[0]!.id;
}
