import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { z } from "zod";

export const chatRoles = ["system", "user", "assistant"] as const;
export type ChatRole = (typeof chatRoles)[number];

export interface ChatMessage {
  role: ChatRole;
  content: string;
}

/** One SFT record, whatever its shape on disk, as chat messages; `line` is its 1-based line number. */
export interface SftExample {
  line: number;
  messages: ChatMessage[];
}

export interface SftFile {
  path: string;
  sha256: string;
  /** Records read (non-blank lines, after `limit`). */
  lines: number;
  examples: SftExample[];
}

export interface SftLineIssue {
  line: number;
  message: string;
}

/** A JSONL file that failed validation; `issues` lists every bad line. */
export class SftDataError extends Error {
  constructor(
    readonly path: string,
    readonly issues: SftLineIssue[],
  ) {
    const shown = issues.slice(0, 5).map((i) => `${path}:${i.line}: ${i.message}`);
    const more = issues.length > 5 ? `\n... and ${issues.length - 5} more bad lines` : "";
    super(`${issues.length} invalid line(s) in ${path}:\n${shown.join("\n")}${more}`);
    this.name = "SftDataError";
  }
}

const text = z.string().min(1, "must be a non-empty string");
const questionAnswer = z.object({ question: text, answer: text });
const promptResponse = z.object({ prompt: text, response: text });
const messagesShape = z.object({
  messages: z
    .array(z.object({ role: z.enum(chatRoles), content: z.string() }))
    .min(1, "must have at least one message")
    .refine((m) => m.some((x) => x.role === "assistant"), "must contain an assistant message (the training target)"),
});

const SHAPES = "{question, answer}, {prompt, response} or {messages: [{role, content}, ...]}";

function issueText(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map(
      (i) =>
        `${
          i.path.length
            ? i.path
                .map((p) => (typeof p === "number" ? `[${p}]` : `.${String(p)}`))
                .join("")
                .replace(/^\./, "")
            : "record"
        }: ${i.message}`,
    )
    .join("; ");
}

/** The chat messages of one parsed JSON record, or the reason it fits no shape. */
export function sftRecordMessages(record: unknown): ChatMessage[] | string {
  if (typeof record !== "object" || record === null || Array.isArray(record)) return `expected an object: ${SHAPES}`;
  const keys = Object.keys(record);
  // Pick the shape by its keys so the error talks about the fields the author meant.
  if (keys.includes("messages")) {
    const r = messagesShape.safeParse(record);
    return r.success ? r.data.messages : `expected {messages: [{role: system|user|assistant, content}, ...]}: ${issueText(r.error)}`;
  }
  if (keys.includes("question") || keys.includes("answer")) {
    const r = questionAnswer.safeParse(record);
    return r.success
      ? [
          { role: "user", content: r.data.question },
          { role: "assistant", content: r.data.answer },
        ]
      : `expected {question, answer}: ${issueText(r.error)}`;
  }
  if (keys.includes("prompt") || keys.includes("response")) {
    const r = promptResponse.safeParse(record);
    return r.success
      ? [
          { role: "user", content: r.data.prompt },
          { role: "assistant", content: r.data.response },
        ]
      : `expected {prompt, response}: ${issueText(r.error)}`;
  }
  return `expected ${SHAPES}; got keys [${keys.join(", ")}]`;
}

/**
 * Reads an SFT JSONL file in any of the three shapes (mixed shapes are allowed). Blank lines are
 * skipped; any malformed line fails the whole file with every bad line number listed.
 */
export async function readSftExamples(path: string, options: { limit?: number } = {}): Promise<SftFile> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err) {
    throw new Error(`cannot read SFT data ${path}: ${(err as Error).message}`);
  }
  const sha256 = createHash("sha256").update(bytes).digest("hex");
  const lines = bytes.toString("utf8").split("\n");
  const examples: SftExample[] = [];
  const issues: SftLineIssue[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (options.limit !== undefined && examples.length + issues.length >= options.limit) break;
    const raw = lines[i]!.trim();
    if (raw === "") continue;
    let record: unknown;
    try {
      record = JSON.parse(raw);
    } catch (err) {
      issues.push({ line: i + 1, message: `invalid JSON (${(err as Error).message}); expected ${SHAPES}` });
      continue;
    }
    const messages = sftRecordMessages(record);
    if (typeof messages === "string") issues.push({ line: i + 1, message: messages });
    else examples.push({ line: i + 1, messages });
  }
  if (issues.length > 0) throw new SftDataError(path, issues);
  if (examples.length === 0) throw new Error(`${path}: no records; expected JSON lines of ${SHAPES}`);
  return { path, sha256, lines: examples.length, examples };
}
