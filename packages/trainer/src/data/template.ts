import { z } from "zod";
import { DEEPSEEK_BOS, DEEPSEEK_EOS } from "../tokenizer/deepseek.ts";
import type { ChatMessage } from "./examples.ts";

/**
 * How chat messages become training text. Each role part contains `{content}` once; for an
 * assistant turn, the text from `{content}` to the end of the part (e.g. the EOS token) is the
 * training target, everything else is prompt. `specialTokens` are strings in the parts that must be
 * single added tokens of the tokenizer (checked before tokenizing, so a template/tokenizer mismatch
 * cannot silently train on "<｜end▁of▁sentence｜>" spelled out as text).
 */
export interface ChatTemplate {
  name: string;
  prefix: string;
  system: string;
  user: string;
  assistant: string;
  /** Prefix of `assistant` that is prompt, not target. */
  assistantPrompt: string;
  specialTokens: string[];
}

const part = z.string().refine((s) => s.split("{content}").length === 2, "must contain {content} exactly once");

export const chatTemplateSchema = z
  .object({
    name: z.string().min(1),
    prefix: z.string(),
    system: part,
    user: part,
    assistant: part,
    assistantPrompt: z.string(),
    specialTokens: z.array(z.string().min(1)),
  })
  .refine((t) => t.assistant.split("{content}")[0]!.startsWith(t.assistantPrompt), {
    message: "must be a prefix of the assistant part before {content}",
    path: ["assistantPrompt"],
  });

/**
 * DeepSeek-V2 chat form (its tokenizer_config chat_template): BOS, "User: ...\n\n",
 * "Assistant: ...<EOS>"; its generation prompt is "Assistant:" without the space.
 */
export const DEEPSEEK_V2_CHAT_TEMPLATE: ChatTemplate = {
  name: "deepseek-v2-chat",
  prefix: DEEPSEEK_BOS,
  system: "{content}\n\n",
  user: "User: {content}\n\n",
  assistant: `Assistant: {content}${DEEPSEEK_EOS}`,
  assistantPrompt: "Assistant:",
  specialTokens: [DEEPSEEK_BOS, DEEPSEEK_EOS],
};

/** A rendered example: its text and the [start, end) UTF-16 ranges that are training targets. */
export interface RenderedExample {
  text: string;
  targets: Array<[number, number]>;
}

export function renderExample(messages: readonly ChatMessage[], template: ChatTemplate): RenderedExample {
  let text = template.prefix;
  const targets: Array<[number, number]> = [];
  for (const message of messages) {
    const [before, after] = template[message.role].split("{content}") as [string, string];
    const start = text.length;
    text += before + message.content + after;
    if (message.role === "assistant") targets.push([start + template.assistantPrompt.length, text.length]);
  }
  return { text, targets };
}

/** One-line form of the single-turn template, as recorded in packed.json. */
export function describeTemplate(template: ChatTemplate): string {
  return template.prefix + template.user.replace("{content}", "{prompt}") + template.assistant.replace("{content}", "{response}");
}
