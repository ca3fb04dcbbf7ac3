import { type IncomingMessage, type ServerResponse, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { z } from "zod";

/**
 * A small stand-in for an OpenAI-compatible inference server (the outer boundary we cannot run here). It speaks
 * POST /v1/completions as vLLM does: `prompt` string or array, greedy generation honouring `stop` and
 * `max_tokens`, and `echo` + `logprobs` returning tokens / token_logprobs / top_logprobs / text_offset where the
 * first token is a BOS whose text shifts every offset and has a null logprob; and GET /v1/models. Answers come
 * from fixed tables. Its tokenizer: words with their leading whitespace.
 * Options give it the behaviours of real servers: a required API key (vLLM --api-key: 401 without it), token
 * texts decoded one by one without their leading space (SentencePiece vocabularies), a context limit (vLLM's 400),
 * and TGI's or llama.cpp's /v1/completions, which return no prompt log-probabilities.
 */
const requestSchema = z.object({
  model: z.string(),
  prompt: z.union([z.string(), z.array(z.string())]),
  max_tokens: z.number().int().min(0).default(16),
  temperature: z.number().optional(),
  stop: z.array(z.string()).optional(),
  logprobs: z.number().int().optional(),
  echo: z.boolean().optional(),
});

export interface FakeServerTables {
  /** Token text -> logprob; any other token gets `defaultLogprob`. */
  tokenLogprobs: Record<string, number>;
  defaultLogprob: number;
  /** Generation: the last "Q: ...\nA:" question of the prompt -> raw model text (before stop handling). */
  completions: Record<string, string>;
  /** The logprob every token's top-1 alternative gets; a token with a lower logprob is not greedy. */
  alternativeLogprob: number;
}

export interface FakeServerBehaviour {
  /** Requests without `Authorization: Bearer <apiKey>` get vLLM's 401. */
  apiKey?: string;
  /** Token texts lose their leading whitespace, offsets follow the texts (vLLM on a SentencePiece tokenizer). */
  dropLeadingSpace?: boolean;
  /** BOS + prompt tokens + max_tokens above this get vLLM's 400. */
  maxModelLen?: number;
  /**
   * tgi: at most 4 prompts per request and max_tokens >= 1 (else 422), echo and logprobs ignored (logprobs null).
   * llama.cpp: echo answered with HTTP 500 "Only no echo is supported"; several prompts get an array of answers.
   */
  flavour?: "vllm" | "tgi" | "llama.cpp";
  /** Each completions answer waits this long (so requests overlap and `maxInFlight` shows the client's concurrency). */
  delayMs?: number;
}

export interface FakeServer {
  baseUrl: string;
  /** Every parsed request body, in arrival order. */
  requests: z.infer<typeof requestSchema>[];
  /** Status codes to answer (in order) before serving normally, e.g. [503, 429]. */
  failNext: number[];
  /** Every HTTP request as it arrived (before any check): method, path and Authorization header. */
  seen: { method: string; url: string; authorization: string | null }[];
  /** The most completions requests that were in flight at once. */
  maxInFlight: number;
  close(): Promise<void>;
}

export const BOS = "<s>";

export function fakeTokenize(text: string): string[] {
  return text.match(/\s*\S+|\s+$/g) ?? [];
}

const codePoints = (s: string): number => [...s].length;

function echoChoice(prompt: string, index: number, maxTokens: number, t: FakeServerTables, b: FakeServerBehaviour) {
  const tokens = [BOS, ...fakeTokenize(prompt)];
  const lp = (tok: string): number => t.tokenLogprobs[tok] ?? t.defaultLogprob;
  const tokenLogprobs: (number | null)[] = tokens.map((tok, i) => (i === 0 ? null : lp(tok)));
  const top: (Record<string, number> | null)[] = tokens.map((tok, i) => (i === 0 ? null : { [tok]: lp(tok), "<alt>": t.alternativeLogprob }));
  if (maxTokens > 0) {
    tokens.push(" ok");
    tokenLogprobs.push(-0.01);
    top.push({ " ok": -0.01 });
  }
  // The logprobs are the word's; only the text the server reports loses its space.
  const texts = b.dropLeadingSpace ? tokens.map((tok) => tok.trimStart()) : tokens;
  const offsets: number[] = [];
  let at = 0;
  for (const tok of texts) {
    offsets.push(at);
    at += codePoints(tok);
  }
  return {
    index,
    text: maxTokens > 0 ? `${prompt} ok` : prompt,
    logprobs: { tokens: texts, token_logprobs: tokenLogprobs, top_logprobs: top, text_offset: offsets },
    finish_reason: "length",
  };
}

function generateChoice(prompt: string, index: number, stop: string[], t: FakeServerTables) {
  const m = /Q: ([^\n]*)\nA:$/.exec(prompt);
  let text = (m && t.completions[m[1]!]) ?? " I am not sure.";
  let finish = "length";
  for (const s of stop) {
    const at = text.indexOf(s);
    if (at >= 0) {
      text = text.slice(0, at);
      finish = "stop";
    }
  }
  return { index, text, logprobs: null, finish_reason: finish };
}

async function body(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

/** The error a real server of this flavour answers for this request, if any: [status, body]. */
function refusal(r: z.infer<typeof requestSchema>, prompts: string[], b: FakeServerBehaviour): [number, unknown] | null {
  if (b.flavour === "tgi") {
    if (prompts.length > 4) {
      return [422, { error: "Number of prompts exceeds the maximum allowed batch size of 4", error_type: "batch size exceeded" }];
    }
    if (r.max_tokens < 1) return [422, { error: "Input validation error: `max_new_tokens` must be strictly positive", error_type: "validation" }];
  }
  if (b.flavour === "llama.cpp" && r.echo) return [500, { error: { code: 500, message: "Only no echo is supported", type: "server_error" } }];
  if (b.maxModelLen !== undefined) {
    for (const p of prompts) {
      const n = 1 + fakeTokenize(p).length;
      if (n + r.max_tokens > b.maxModelLen) {
        const message =
          `This model's maximum context length is ${b.maxModelLen} tokens. However, you requested ${n + r.max_tokens} tokens ` +
          `(${n} in the messages, ${r.max_tokens} in the completion). Please reduce the length of the messages or completion.`;
        return [400, { object: "error", message, type: "BadRequestError", param: null, code: 400 }];
      }
    }
  }
  return null;
}

export async function startFakeCompletionsServer(tables: FakeServerTables, behaviour: FakeServerBehaviour = {}): Promise<FakeServer> {
  const state: Omit<FakeServer, "baseUrl" | "close"> = { requests: [], failNext: [], seen: [], maxInFlight: 0 };
  let inFlight = 0;
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    void (async () => {
      const send = (status: number, payload: unknown): void => {
        res.writeHead(status, { "content-type": "application/json" });
        res.end(JSON.stringify(payload));
      };
      state.seen.push({ method: req.method ?? "", url: req.url ?? "", authorization: req.headers.authorization ?? null });
      if (behaviour.apiKey !== undefined && req.headers.authorization !== `Bearer ${behaviour.apiKey}`) {
        return send(401, { error: "Unauthorized" });
      }
      if (req.method === "GET" && req.url === "/v1/models") {
        return send(200, {
          object: "list",
          data: [{ id: "deepseek-v2-lite", object: "model", owned_by: "vllm", max_model_len: behaviour.maxModelLen ?? 4096 }],
        });
      }
      if (req.method !== "POST" || req.url !== "/v1/completions") return send(404, { error: { message: "not found" } });
      const parsed = requestSchema.safeParse(JSON.parse(await body(req)));
      if (!parsed.success) return send(400, { error: { message: parsed.error.message, type: "BadRequestError" } });
      const failure = state.failNext.shift();
      if (failure !== undefined) return send(failure, { error: { message: "try again later" } });
      const r = parsed.data;
      state.requests.push(r);
      state.maxInFlight = Math.max(state.maxInFlight, ++inFlight);
      await new Promise((resolve) => setTimeout(resolve, behaviour.delayMs ?? 0));
      inFlight--;
      const prompts = typeof r.prompt === "string" ? [r.prompt] : r.prompt;
      const refused = refusal(r, prompts, behaviour);
      if (refused) return send(...refused);
      // TGI and llama.cpp do not echo; TGI's logprobs field is always null.
      const echo = r.echo === true && (behaviour.flavour ?? "vllm") === "vllm";
      const choices = prompts.map((p, i) => (echo ? echoChoice(p, i, r.max_tokens, tables, behaviour) : generateChoice(p, i, r.stop ?? [], tables)));
      const answer = (cs: typeof choices) => ({ id: "cmpl-test", object: "text_completion", created: 0, model: r.model, choices: cs, usage: null });
      // llama.cpp: one answer per prompt, an array of them when there are several.
      if (behaviour.flavour === "llama.cpp" && choices.length > 1)
        return send(
          200,
          choices.map((c) => answer([{ ...c, index: 0 }])),
        );
      send(200, answer(choices));
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(state, {
    baseUrl: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve, reject) => server.close((e) => (e ? reject(e) : resolve()))),
  });
}
