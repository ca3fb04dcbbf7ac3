import { z } from "zod";
import { pyLen } from "./python-str.ts";
import type { LoglikelihoodResult } from "./requests.ts";

/** `choices[i].logprobs` of an OpenAI completions answer to `echo: true, logprobs: 1`. */
export const echoLogprobsSchema = z.object({
  tokens: z.array(z.string()),
  token_logprobs: z.array(z.number().nullable()),
  top_logprobs: z.array(z.record(z.string(), z.number()).nullable()).nullable().optional(),
  text_offset: z.array(z.number().int()),
});
export type EchoLogprobs = z.infer<typeof echoLogprobsSchema>;

/** An echoed prompt whose tokens cannot be placed on the prompt we sent: scoring it would score the wrong tokens. */
export class EchoMismatchError extends Error {
  constructor(detail: string) {
    super(`completions response: ${detail}; refusing to score it (the server's token texts must spell the prompt)`);
    this.name = "EchoMismatchError";
  }
}

// vLLM decodes each token alone, so a byte token holding part of a character comes back as U+FFFD.
const PART_OF_A_CHARACTER = "\uFFFD";
const isNonAscii = (ch: string | undefined): boolean => ch !== undefined && ch.codePointAt(0)! >= 0x80;

/** Start positions (code points into `chars`) at which `token` may begin if it ends at `end`. */
function tokenStarts(token: string[], chars: string[], end: number): number[] {
  let ends = [end];
  for (let k = token.length - 1; k >= 0 && ends.length > 0; k--) {
    const t = token[k]!;
    const next = new Set<number>();
    for (const e of ends) {
      if (t === PART_OF_A_CHARACTER) {
        // A fragment stands for at most one whole non-ASCII character; the fragments of one character share it.
        next.add(e);
        if (isNonAscii(chars[e - 1])) next.add(e - 1);
      } else if (e > 0 && chars[e - 1] === t) {
        next.add(e - 1);
      }
    }
    ends = [...next];
  }
  return ends;
}

/**
 * Places the echoed prompt tokens [0, count) on `prompt`, walking back from its end: returns where each token
 * starts (code points). Token texts must spell the prompt exactly, save U+FFFD fragments of split characters;
 * at most one leading token (the BOS a server prepends) may spell nothing of it. Throws EchoMismatchError.
 */
export function alignEchoedPrompt(tokens: readonly string[], count: number, prompt: string): number[] {
  const chars = [...prompt];
  const split = tokens.slice(0, count).map((t) => [...t]);
  // Depth-first over the (rare) ambiguous fragment placements; `dead` remembers (token, end) pairs that failed.
  const starts = new Array<number>(count).fill(0);
  const dead = new Set<string>();
  const stack: { i: number; end: number; options: number[] }[] = [];
  const push = (i: number, end: number): void => {
    stack.push({ i, end, options: dead.has(`${i}:${end}`) ? [] : tokenStarts(split[i]!, chars, end) });
  };
  if (count < 1) throw new EchoMismatchError("the echoed prompt has no tokens");
  push(count - 1, chars.length);
  while (stack.length > 0) {
    const top = stack.at(-1)!;
    const start = top.options.pop();
    if (start === undefined) {
      dead.add(`${top.i}:${top.end}`);
      stack.pop();
      continue;
    }
    starts[top.i] = start;
    if (start === 0 && top.i <= 1) {
      // Tokens before i (none, or one BOS) spell nothing of the prompt.
      for (let j = 0; j < top.i; j++) starts[j] = 0;
      return starts;
    }
    if (top.i > 0) push(top.i - 1, start);
  }
  throw new EchoMismatchError(
    `its ${count} echoed prompt tokens do not add up to the ${chars.length}-character prompt (a server that drops ` +
      `leading spaces from token texts, or echoes another text, gives this)`,
  );
}

/** text_offset must advance by each token's length (code points), unless the server reports none (all -1, SGLang). */
function checkOffsets(logprobs: EchoLogprobs, count: number): void {
  const { tokens, text_offset: offsets } = logprobs;
  if (offsets.every((o) => o === -1)) return;
  for (let i = 0; i + 1 < count; i++) {
    if (offsets[i + 1]! - offsets[i]! !== pyLen(tokens[i]!)) {
      throw new EchoMismatchError(`text_offset ${offsets[i + 1]} of token ${i + 1} does not follow token ${i} (${JSON.stringify(tokens[i])} at ${offsets[i]})`);
    }
  }
}

/**
 * The summed log-probability of the continuation's tokens in an echoed `prompt` (= context + continuation), and
 * whether each was the argmax. The prompt's tokens are placed on the prompt's text (see alignEchoedPrompt); a
 * token belongs to the continuation when it ends after the context, i.e. holds at least one continuation
 * character, as the harness takes the joint encoding's tokens after the context's. The last `generatedTokens`
 * tokens (max_tokens) are never counted.
 */
export function continuationLoglikelihood(logprobs: EchoLogprobs, prompt: string, continuation: string, generatedTokens: number): LoglikelihoodResult {
  const { tokens, token_logprobs: lps } = logprobs;
  const count = tokens.length - generatedTokens;
  if (lps.length !== tokens.length || logprobs.text_offset.length !== tokens.length) {
    throw new EchoMismatchError("logprobs.tokens, token_logprobs and text_offset differ in length");
  }
  checkOffsets(logprobs, count);
  const starts = alignEchoedPrompt(tokens, count, prompt);
  const promptEnd = pyLen(prompt);
  const boundary = promptEnd - pyLen(continuation);
  let logprob = 0;
  let isGreedy = true;
  let scored = 0;
  for (let i = count - 1; i >= 0; i--) {
    const end = i === count - 1 ? promptEnd : starts[i + 1]!;
    if (end <= boundary) break;
    const lp = lps[i];
    if (lp === null || lp === undefined) {
      throw new EchoMismatchError("a continuation token has no logprob (the context is empty, or the server scores no prompt)");
    }
    logprob += lp;
    scored++;
    const top = logprobs.top_logprobs?.[i];
    if (top && lp !== Math.max(...Object.values(top))) isGreedy = false;
  }
  if (scored === 0) throw new EchoMismatchError("no token of the continuation was found in the echoed prompt");
  return { logprob, isGreedy };
}
