import { type IncomingMessage, type ServerResponse, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { z } from "zod";

/**
 * A small stand-in for an OpenAI-compatible inference server (the outer boundary we cannot run here). It speaks
 * POST /v1/completions as vLLM does: `prompt` string or array, greedy generation honouring `stop` and
 * `max_tokens`, and `echo` + `logprobs` returning tokens / token_logprobs / top_logprobs / text_offset where the
 * first token is a BOS whose text shifts every offset and has a null logprob. Answers come from fixed tables.
 * Its tokenizer: words with their leading whitespace.
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

export interface FakeServer {
  baseUrl: string;
  /** Every parsed request body, in arrival order. */
  requests: z.infer<typeof requestSchema>[];
  /** Status codes to answer (in order) before serving normally, e.g. [503, 429]. */
  failNext: number[];
  close(): Promise<void>;
}

export const BOS = "<s>";

export function fakeTokenize(text: string): string[] {
  return text.match(/\s*\S+|\s+$/g) ?? [];
}

const codePoints = (s: string): number => [...s].length;

function echoChoice(prompt: string, index: number, maxTokens: number, t: FakeServerTables) {
  const tokens = [BOS, ...fakeTokenize(prompt)];
  const lp = (tok: string): number => t.tokenLogprobs[tok] ?? t.defaultLogprob;
  const tokenLogprobs: (number | null)[] = tokens.map((tok, i) => (i === 0 ? null : lp(tok)));
  const top: (Record<string, number> | null)[] = tokens.map((tok, i) =>
    i === 0 ? null : { [tok]: lp(tok), "<alt>": t.alternativeLogprob },
  );
  if (maxTokens > 0) {
    tokens.push(" ok");
    tokenLogprobs.push(-0.01);
    top.push({ " ok": -0.01 });
  }
  const offsets: number[] = [];
  let at = 0;
  for (const tok of tokens) {
    offsets.push(at);
    at += codePoints(tok);
  }
  return {
    index,
    text: maxTokens > 0 ? `${prompt} ok` : prompt,
    logprobs: { tokens, token_logprobs: tokenLogprobs, top_logprobs: top, text_offset: offsets },
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

export async function startFakeCompletionsServer(tables: FakeServerTables): Promise<FakeServer> {
  const state: Omit<FakeServer, "baseUrl" | "close"> = { requests: [], failNext: [] };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    void (async () => {
      const send = (status: number, payload: unknown): void => {
        res.writeHead(status, { "content-type": "application/json" });
        res.end(JSON.stringify(payload));
      };
      if (req.method !== "POST" || req.url !== "/v1/completions") return send(404, { error: { message: "not found" } });
      const parsed = requestSchema.safeParse(JSON.parse(await body(req)));
      if (!parsed.success) return send(400, { error: { message: parsed.error.message, type: "BadRequestError" } });
      const failure = state.failNext.shift();
      if (failure !== undefined) return send(failure, { error: { message: "try again later" } });
      const r = parsed.data;
      state.requests.push(r);
      const prompts = typeof r.prompt === "string" ? [r.prompt] : r.prompt;
      const choices = prompts.map((p, i) =>
        r.echo ? echoChoice(p, i, r.max_tokens, tables) : generateChoice(p, i, r.stop ?? [], tables),
      );
      send(200, { id: "cmpl-test", object: "text_completion", created: 0, model: r.model, choices, usage: null });
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(state, {
    baseUrl: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve, reject) => server.close((e) => (e ? reject(e) : resolve()))),
  });
}
