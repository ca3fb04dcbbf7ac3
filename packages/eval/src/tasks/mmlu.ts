import { pyStrip } from "../python-str.ts";
import type { MmluDoc } from "../data/mmlu.ts";

export const MMLU_CHOICE_LABELS = ["A", "B", "C", "D"] as const;

/** `doc_to_text` of the harness's mmlu default template. */
export function mmluQuery(doc: Pick<MmluDoc, "question" | "choices">): string {
  const [a, b, c, d] = doc.choices;
  return `${pyStrip(doc.question)}\nA. ${a}\nB. ${b}\nC. ${c}\nD. ${d}\nAnswer:`;
}

/** The task description: subject with "_" read as spaces. */
export function mmluDescription(subject: string): string {
  return `The following are multiple choice questions (with answers) about ${subject.split("_").join(" ")}.\n\n`;
}

/**
 * description + the first `numFewshot` dev questions, each answered with " " + its letter, joined by "\n\n" and
 * followed by "\n\n", + the test question.
 */
export function mmluPrompt(subject: string, dev: readonly MmluDoc[], doc: MmluDoc, numFewshot: number): string {
  if (numFewshot > dev.length) {
    throw new Error(`mmlu ${subject}: ${numFewshot}-shot asked for but the dev split has only ${dev.length} questions`);
  }
  const shots = dev
    .slice(0, numFewshot)
    .map((d) => `${mmluQuery(d)} ${MMLU_CHOICE_LABELS[d.gold]}`)
    .join("\n\n");
  return mmluDescription(subject) + (numFewshot > 0 ? `${shots}\n\n` : "") + mmluQuery(doc);
}
